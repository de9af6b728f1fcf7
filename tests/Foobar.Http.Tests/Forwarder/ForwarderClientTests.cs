using System.Net;
using Foobar.Http.Forwarder;
using Foobar.Http.Tls;
using Foobar.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Foobar.Http.Tests.Forwarder;

/// <summary>The hop behind a tier over https: the backend's certificate must chain to the one authority given and name the address.</summary>
public sealed class ForwarderClientTests : IAsyncLifetime
{
    private readonly string _state = Directory.CreateTempSubdirectory("foobar-hop-tls-").FullName;
    private SiteCertificate _site = null!;
    private LoopbackServer _backend = null!;

    public async Task InitializeAsync()
    {
        _site = LocalCertificateAuthority.LoadOrCreate(Path.Combine(_state, "ours"), "foobar.com", [IPAddress.Loopback], TimeProvider.System);
        var certificates = new ServerCertificates(_site.Load());
        _backend = await LoopbackServer.StartAsync(app => app.Run(c => c.Response.WriteAsync($"{c.Request.Protocol} {c.Request.Scheme}")),
            listen => listen.UseTls(certificates));
    }

    public async Task DisposeAsync()
    {
        await _backend.DisposeAsync();
        Directory.Delete(_state, recursive: true);
    }

    /// <summary>The forwarder's: it bounds the TCP connect only, not the TLS handshake (which on a loaded CI machine has taken over 2 s).</summary>
    private static readonly TimeSpan ConnectTimeout = ForwarderClient.DefaultConnectTimeout;

    private static async Task<string> GetAsync(HttpMessageInvoker client, string url, Version version)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url) { Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await client.SendAsync(request, CancellationToken.None);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task TrustingTheAuthority_ReachesTheBackendOverHttp2AndHttp11()
    {
        using var authority = _site.LoadAuthority();
        using var client = ForwarderClient.Create(ConnectTimeout, authority: authority);

        Assert.Equal("HTTP/2 https", await GetAsync(client, $"https://{_backend.EndPoint}/", HttpVersion.Version20));
        Assert.Equal("HTTP/1.1 https", await GetAsync(client, $"https://{_backend.EndPoint}/", HttpVersion.Version11));
    }

    [Fact]
    public async Task TheConnectTimeout_IsTheConnectsOnly_ASlowTlsHandshakeStillSucceeds()
    {
        var certificates = new ServerCertificates(_site.Load());
        // Accepts at once, then takes 3 s before its TLS handshake: three times the connect timeout.
        // (At 600 ms against 200, a loopback connect at the suite's loaded start once took longer than 200 ms in CI.)
        await using var slow = await LoopbackServer.StartAsync(app => app.Run(c => c.Response.WriteAsync("slow but there")),
            listen =>
            {
                listen.Use(next => async connection =>
                {
                    await Task.Delay(TimeSpan.FromSeconds(3));
                    await next(connection);
                });
                listen.UseTls(certificates);
            });
        using var authority = _site.LoadAuthority();
        using var client = ForwarderClient.Create(TimeSpan.FromSeconds(1), authority: authority);

        Assert.Equal("slow but there", await GetAsync(client, $"https://{slow.EndPoint}/", HttpVersion.Version11));
    }

    [Fact]
    public async Task ABackendThatDoesNotAccept_FailsAsAConnectionError_WithinTheConnectTimeout()
    {
        // A listener that never accepts, its queue filled: the kernel drops further connection requests.
        using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0);
        var fillers = Enumerable.Range(0, 4).Select(_ => new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp)).ToList();
        var filling = fillers.Select(f => f.ConnectAsync(listener.LocalEndPoint!)).ToList();
        using var client = ForwarderClient.Create(TimeSpan.FromMilliseconds(300));
        try
        {
            var e = await Assert.ThrowsAsync<HttpRequestException>(() => GetAsync(client, $"http://{listener.LocalEndPoint}/", HttpVersion.Version11));

            Assert.Equal(HttpRequestError.ConnectionError, e.HttpRequestError);
            Assert.Contains("did not accept a connection within 0.3 s", e.ToString());
        }
        finally
        {
            fillers.ForEach(f => f.Dispose());
        }
    }

    [Fact]
    public async Task AnotherAuthority_OrAnAddressTheCertificateDoesNotName_IsRefused()
    {
        var other = LocalCertificateAuthority.LoadOrCreate(Path.Combine(_state, "other"), "foobar.com", [IPAddress.Loopback], TimeProvider.System);
        using var otherAuthority = other.LoadAuthority();
        using var ours = _site.LoadAuthority();
        using var strangers = ForwarderClient.Create(ConnectTimeout, authority: otherAuthority);
        using var client = ForwarderClient.Create(ConnectTimeout, authority: ours);
        // Our authority, but a certificate for another address.
        var elsewhere = new ServerCertificates(LocalCertificateAuthority.LoadOrCreate(Path.Combine(_state, "ours"), "foobar.com", [IPAddress.Parse("127.0.0.9")], TimeProvider.System).Load());
        await using var misnamed = await LoopbackServer.StartAsync(app => app.Run(c => c.Response.WriteAsync("misnamed")), listen => listen.UseTls(elsewhere));

        var wrongAuthority = await Assert.ThrowsAsync<HttpRequestException>(() => GetAsync(strangers, $"https://{_backend.EndPoint}/", HttpVersion.Version11));
        var wrongName = await Assert.ThrowsAsync<HttpRequestException>(() => GetAsync(client, $"https://{misnamed.EndPoint}/", HttpVersion.Version11));

        Assert.Equal(HttpRequestError.SecureConnectionError, wrongAuthority.HttpRequestError);
        Assert.Equal(HttpRequestError.SecureConnectionError, wrongName.HttpRequestError);
        Assert.Equal("HTTP/1.1 https", await GetAsync(client, $"https://{_backend.EndPoint}/", HttpVersion.Version11));
    }
}
