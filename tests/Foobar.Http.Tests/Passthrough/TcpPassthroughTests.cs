using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Foobar.Http.Backends;
using Foobar.Http.LoadBalancing;
using Foobar.Http.Passthrough;
using Foobar.Http.ProxyProtocol;
using Foobar.Http.Tls;
using Foobar.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Foobar.Http.Tests.Passthrough;

/// <summary>
/// A load balancer passing TLS through (real Kestrel on both sides): the web server ends TLS and
/// learns the client's address from the PROXY protocol header, trusted only from the load balancer.
/// </summary>
public sealed class TcpPassthroughTests : IAsyncLifetime
{
    private static readonly IPAddress LoadBalancerAddress = IPAddress.Parse("127.0.0.4");
    private static readonly IPAddress ClientAddress = IPAddress.Parse("127.0.0.2");
    private static readonly IPAddress StrangerAddress = IPAddress.Parse("127.0.0.3");

    private readonly string _state = Directory.CreateTempSubdirectory("foobar-passthrough-").FullName;
    private X509Certificate2 _authority = null!;
    private LoopbackServer _web = null!;
    private readonly List<LoopbackServer> _loadBalancers = [];

    public async Task InitializeAsync()
    {
        var site = LocalCertificateAuthority.LoadOrCreate(Path.Combine(_state, "tls"), "foobar.com", [IPAddress.Loopback], TimeProvider.System);
        _authority = site.LoadAuthority();
        var certificates = new ServerCertificates(site.Load());
        _web = await LoopbackServer.StartAsync(
            app => app.Run(c => c.Response.WriteAsync($"{c.Connection.RemoteIpAddress} {c.Request.Scheme}")),
            listen =>
            {
                listen.UseProxyProtocol(LoadBalancerAddress.Equals);
                listen.UseTls(certificates);
            });
    }

    public async Task DisposeAsync()
    {
        foreach (var lb in _loadBalancers)
        {
            await lb.DisposeAsync();
        }
        await _web.DisposeAsync();
        _authority.Dispose();
        Directory.Delete(_state, recursive: true);
    }

    private Backend Web() => new("web1", new Uri($"https://{_web.EndPoint}/"));

    private async Task<IPEndPoint> LoadBalancerAsync(BackendPool pool, TimeSpan? idle = null)
    {
        var passthrough = new TcpPassthrough(pool, NullLogger.Instance) { IdleTimeout = idle ?? TimeSpan.FromSeconds(50), LocalAddress = LoadBalancerAddress };
        var lb = await LoopbackServer.StartAsync(_ => { }, passthrough.Use);
        _loadBalancers.Add(lb);
        return lb.EndPoint;
    }

    /// <summary>A client from <paramref name="from"/> that trusts the local authority.</summary>
    private HttpClient Client(IPAddress from) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, token) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(from, 0));
            await socket.ConnectAsync(context.DnsEndPoint, token);
            return new NetworkStream(socket, ownsSocket: true);
        },
        SslOptions = AuthorityTrust.Only(_authority),
    });

    private static async Task<Socket> ConnectAsync(IPAddress from, IPEndPoint to)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(from, 0));
        await socket.ConnectAsync(to);
        return socket;
    }

    /// <summary>Whether the peer closes or resets the connection within 10 s without sending anything.</summary>
    private static async Task<bool> ClosedAsync(Socket socket)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            return await socket.ReceiveAsync(new byte[16], SocketFlags.None, deadline.Token) == 0;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    [Fact]
    public async Task Passthrough_TheWebServerEndsTls_AndSeesTheClientsAddress_NotTheLoadBalancers()
    {
        var web = Web();
        var lb = await LoadBalancerAsync(new BackendPool([web], new RoundRobinPolicy()));
        string body;
        using (var client = Client(ClientAddress))
        {
            body = await client.GetStringAsync($"https://{lb}/");
        }

        Assert.Equal($"{ClientAddress} https", body);
        Assert.Equal(1, web.Requests);
        await Eventually.TrueAsync(() => web.ActiveRequests == 0, "the connection is no longer counted once the client is gone", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Passthrough_ABackendThatRefuses_IsMarkedDown_AndTheConnectionGoesToTheNext()
    {
        var dead = new Backend("dead", LoopbackServer.ClosedPort());
        var lb = await LoadBalancerAsync(new BackendPool([dead, Web()], new RoundRobinPolicy()));

        var bodies = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            using var fresh = Client(ClientAddress);
            bodies.Add(await fresh.GetStringAsync($"https://{lb}/"));
        }

        Assert.All(bodies, b => Assert.Equal($"{ClientAddress} https", b));
        Assert.Equal(BackendState.Down, dead.State);
        Assert.Equal(1, dead.Retried);
    }

    [Fact]
    public async Task Passthrough_NoServerUp_ClosesTheClientsConnection()
    {
        var lb = await LoadBalancerAsync(new BackendPool([new Backend("dead", LoopbackServer.ClosedPort())], new RoundRobinPolicy()));
        using var client = Client(ClientAddress);

        // Closed that fast, HttpClient sometimes fails asking the socket for its peer (ENOTCONN) and
        // lets the SocketException through instead of wrapping it.
        var e = await Assert.ThrowsAnyAsync<Exception>(() => client.GetStringAsync($"https://{lb}/"));
        Assert.True(e is HttpRequestException or SocketException, e.ToString());
    }

    [Fact]
    public async Task Passthrough_AConnectionThatCarriesNothing_IsClosedAfterTheIdleTimeout()
    {
        var web = Web();
        var lb = await LoadBalancerAsync(new BackendPool([web], new RoundRobinPolicy()), idle: TimeSpan.FromMilliseconds(300));
        using var socket = await ConnectAsync(ClientAddress, lb);
        // The start of a TLS record, then nothing: web1 waits for the rest of the handshake.
        await socket.SendAsync(new byte[] { 0x16, 0x03, 0x01 });
        await Eventually.TrueAsync(() => web.ActiveRequests == 1, "the connection is passed to web1");

        Assert.True(await ClosedAsync(socket), "the idle connection should be closed");
        await Eventually.TrueAsync(() => web.ActiveRequests == 0, "web1's count drops back");
    }

    [Fact]
    public async Task WebServer_DirectFromTheLoadBalancerWithoutAHeader_IsServedAsItIs()
    {
        using var client = Client(LoadBalancerAddress);

        var body = await client.GetStringAsync($"https://{_web.EndPoint}/");

        Assert.Equal($"{LoadBalancerAddress} https", body);
    }

    [Fact]
    public async Task WebServer_AHeaderFromAnUntrustedAddress_IsNotRead_SoTheHandshakeFails()
    {
        using var socket = await ConnectAsync(StrangerAddress, _web.EndPoint);
        await socket.SendAsync(ProxyHeader.Write(IPEndPoint.Parse("198.51.100.1:4000"), _web.EndPoint));
        await using var tls = new SslStream(new NetworkStream(socket), leaveInnerStreamOpen: false, (_, _, _, _) => true);

        var error = await Record.ExceptionAsync(() => tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "127.0.0.1" }));

        Assert.True(error is IOException or System.Security.Authentication.AuthenticationException, $"the handshake should fail, got {error?.GetType().Name ?? "success"}");
    }

    [Theory]
    [InlineData(0x11, "a version 1 command in a version 2 header")]
    [InlineData(0x2F, "command 15")]
    public async Task WebServer_AMalformedHeaderFromTheLoadBalancer_ClosesTheConnection(byte versionCommand, string what)
    {
        using var socket = await ConnectAsync(LoadBalancerAddress, _web.EndPoint);
        var header = ProxyHeader.Write(IPEndPoint.Parse("198.51.100.1:4000"), _web.EndPoint);
        header[12] = versionCommand;
        await socket.SendAsync(header);

        Assert.True(await ClosedAsync(socket), $"{what}: the connection should be closed");
    }
}
