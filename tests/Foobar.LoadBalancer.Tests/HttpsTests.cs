using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Foobar.Http;
using Foobar.Http.Tls;
using Foobar.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Foobar.LoadBalancer.Tests;

/// <summary>The public address with HTTPS: a certificate from the local authority, TLS 1.2/1.3 with ALPN, redirect and HSTS.</summary>
public sealed class HttpsTests : IAsyncLifetime
{
    private readonly string _state = Directory.CreateTempSubdirectory("foobar-lb-tls-").FullName;
    private readonly CancellationTokenSource _stop = new();
    private IPEndPoint _http = null!;
    private IPEndPoint _https = null!;
    private SiteCertificate _site = null!;
    private X509Certificate2 _authority = null!;
    private PublicAddressClaim _claim = null!;
    private Task _running = Task.CompletedTask;

    public async Task InitializeAsync()
    {
        _http = new IPEndPoint(IPAddress.Loopback, LoopbackServer.ClosedPort().Port);
        _https = new IPEndPoint(IPAddress.Loopback, LoopbackServer.ClosedPort().Port);
        _site = LocalCertificateAuthority.LoadOrCreate(Path.Combine(_state, "tls"), "foobar.com", [IPAddress.Loopback], TimeProvider.System);
        _authority = _site.LoadAuthority();
        var policy = new HttpsPolicy(_https.Port, Redirect: true, Hsts: "max-age=31536000", FallbackHost: "www.foobar.com");
        _claim = new PublicAddressClaim(_http, app =>
        {
            policy.Use(app);
            app.Run(context => context.Response.WriteAsync($"{context.Request.Protocol} {context.Request.Scheme}"));
        }, TimeSpan.FromMilliseconds(50), TimeProvider.System, NullLogger.Instance)
        {
            HttpsEndPoint = _https,
            Https = listen => listen.UseTls(new ServerCertificates(_site.Load())),
        };
        _running = _claim.RunAsync(_stop.Token);
        await Eventually.TrueAsync(() => _claim.Held, "the claim holds both endpoints");
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _running;
        _authority.Dispose();
        Directory.Delete(_state, recursive: true);
    }

    private HttpClient TrustingClient(Version version) => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        ConnectCallback = async (context, token) =>
        {
            // www.foobar.com is this listener: no name lookup leaves the machine.
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port), token);
            return new NetworkStream(socket, ownsSocket: true);
        },
        SslOptions = AuthorityTrust.Only(_authority),
    })
    {
        DefaultRequestVersion = version,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    [Fact]
    public async Task Https_ServesHttp2ByAlpn_WithHsts_ToAClientThatTrustsTheAuthority()
    {
        using var client = TrustingClient(HttpVersion.Version20);

        using var response = await client.GetAsync(new Uri($"https://www.foobar.com:{_https.Port}/"));

        Assert.Equal("HTTP/2 https", await response.Content.ReadAsStringAsync());
        Assert.Equal(new Version(2, 0), response.Version);
        Assert.Equal("max-age=31536000", string.Join(",", response.Headers.GetValues("Strict-Transport-Security")));
    }

    [Fact]
    public async Task Https_Http11StillWorks()
    {
        using var client = TrustingClient(HttpVersion.Version11);

        Assert.Equal("HTTP/1.1 https", await client.GetStringAsync(new Uri($"https://www.foobar.com:{_https.Port}/")));
    }

    [Fact]
    public async Task PlainHttp_Is308ToTheSameUrlOverHttps_WithoutHsts()
    {
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });

        using var response = await client.PostAsync(new Uri($"http://{_http}/guestbook/sign?x=1"), new StringContent("entry"));

        Assert.Equal(HttpStatusCode.PermanentRedirect, response.StatusCode);
        Assert.Equal($"https://127.0.0.1:{_https.Port}/guestbook/sign?x=1", response.Headers.Location?.ToString());
        Assert.False(response.Headers.Contains("Strict-Transport-Security"));
    }

    [Theory]
    [InlineData(SslProtocols.Tls12)]
    [InlineData(SslProtocols.Tls13)]
    public async Task Tls12And13_AreAccepted(SslProtocols protocol)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(_https);
        await using var tls = new SslStream(tcp.GetStream());

        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "www.foobar.com",
            EnabledSslProtocols = protocol,
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });

        Assert.Equal(protocol, tls.SslProtocol);
    }

    [Fact]
    public async Task Garbage_OnTheHttpsPort_IsDropped_AndTheNextClientIsServed()
    {
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(_https);
            await tcp.GetStream().WriteAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
            // Kestrel ends a connection whose first bytes are no TLS handshake, and answers no plain HTTP.
            var closedAfter = await RawHttp.TimeAsync(async () => Assert.DoesNotContain("HTTP/1.1", await RawHttp.ReadUntilClosedAsync(tcp.GetStream(), TimeSpan.FromSeconds(20))));
            Assert.True(closedAfter < TimeSpan.FromSeconds(15), $"still open after {closedAfter}");
        }

        using var client = TrustingClient(HttpVersion.Version20);
        Assert.Equal("HTTP/2 https", await client.GetStringAsync(new Uri($"https://www.foobar.com:{_https.Port}/")));
    }
}
