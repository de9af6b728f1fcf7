using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace Foobar.EndToEnd.Tests;

/// <summary>The default topology with <c>public.https: 443</c>: TLS at the load balancers with the local authority's certificate.</summary>
public sealed class HttpsTests
{
    [Fact]
    public async Task Https_ThroughEveryTier_WithTheLocalAuthority_AndPlainHttpRedirected()
    {
        await using var topology = new RunningTopology();
        var yaml = await File.ReadAllTextAsync(topology.TopologyFile);
        Assert.Contains("  http: 80\n", yaml);
        await File.WriteAllTextAsync(topology.TopologyFile, yaml.Replace("  http: 80\n", "  http: 80\n  https: 443\n", StringComparison.Ordinal));
        await topology.InitializeAsync();
        Assert.Contains("https://www.foobar.com/", topology.UpResult!.Output);

        var caFile = Path.Combine(topology.StateDirectory, "tls", "ca.crt");
        using var authority = X509CertificateLoader.LoadCertificateFromFile(caFile);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(topology.StateDirectory, "tls", "site.key")));
        using var client = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectCallback = async (context, token) =>
            {
                // www.foobar.com is the public address: no lookup leaves the machine.
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(new IPEndPoint(topology.PublicAddress, context.DnsEndPoint.Port), token);
                return new NetworkStream(socket, ownsSocket: true);
            },
            SslOptions = new SslClientAuthenticationOptions
            {
                CertificateChainPolicy = new X509ChainPolicy
                {
                    TrustMode = X509ChainTrustMode.CustomRootTrust,
                    CustomTrustStore = { authority },
                    RevocationMode = X509RevocationMode.NoCheck,
                },
            },
        })
        {
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        using var secure = await client.GetAsync(new Uri("https://www.foobar.com/assets/foobar.css"));
        using var plain = await client.GetAsync(new Uri("http://www.foobar.com/assets/foobar.css?v=1"));

        Assert.Equal(HttpStatusCode.OK, secure.StatusCode);
        Assert.Equal(new Version(2, 0), secure.Version);
        Assert.Matches("^lb[12], web[12]$", string.Join(",", secure.Headers.GetValues("X-Served-By")));
        Assert.True(secure.Headers.Contains("Strict-Transport-Security"));
        Assert.Equal(HttpStatusCode.PermanentRedirect, plain.StatusCode);
        Assert.Equal("https://www.foobar.com/assets/foobar.css?v=1", plain.Headers.Location?.ToString());
    }
}
