using System.Net;
using System.Net.WebSockets;
using System.Text;
using Foobar.Http.Backends;
using Foobar.Http.LoadBalancing;
using Foobar.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Foobar.Http.Tests.Forwarder;

/// <summary>WebSocket upgrades, HTTP/2 clients and trailers through the forwarder, with real Kestrel servers on both sides.</summary>
public class ForwarderProtocolTests
{
    private static Task<LoopbackServer> EchoWebSocketBackend() => LoopbackServer.StartAsync(app =>
    {
        app.UseWebSockets();
        app.Run(async context =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = 400;
                return;
            }
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[4096];
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", context.RequestAborted);
                    return;
                }
                var echo = Encoding.UTF8.GetBytes("echo: " + Encoding.UTF8.GetString(buffer, 0, received.Count));
                await socket.SendAsync(echo, WebSocketMessageType.Text, true, context.RequestAborted);
            }
        });
    });

    [Fact]
    public async Task WebSocket_IsUpgradedThroughTheForwarder_MessagesFlowBothWays_AndCloseCleanly()
    {
        await using var backend = await EchoWebSocketBackend();
        await using var fixture = await ForwarderFixture.StartAsync(("ws", backend.BaseUri));
        using var socket = new ClientWebSocket();

        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{fixture.BaseUri.Port}/chat"), CancellationToken.None);
        var answers = new List<string>();
        var buffer = new byte[4096];
        foreach (var message in new[] { "one", "two", new string('x', 3000) })
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, CancellationToken.None);
            var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
            answers.Add(Encoding.UTF8.GetString(buffer, 0, received.Count));
        }
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);

        Assert.Equal(["echo: one", "echo: two", "echo: " + new string('x', 3000)], answers);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
        var ws = fixture.Pool.Backends[0];
        await Eventually.TrueAsync(() => ws.ActiveRequests == 0, "the tunnel's request is over");
        Assert.Equal(1, ws.ResponsesOfClass(1));
    }

    [Fact]
    public async Task WebSocketOverHttp2_GoesOnAsTheHttp11Handshake_AndMessagesFlow()
    {
        await using var backend = await EchoWebSocketBackend();
        await using var fixture = await ForwarderFixture.StartAsync(("ws", backend.BaseUri));
        using var socket = new ClientWebSocket();
        socket.Options.HttpVersion = HttpVersion.Version20;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        socket.Options.CollectHttpResponseDetails = true;
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler());

        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{fixture.BaseUri.Port}/chat"), invoker, CancellationToken.None);
        await socket.SendAsync(Encoding.UTF8.GetBytes("over h2"), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[4096];
        var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, socket.HttpStatusCode); // HTTP/2 accepts with 200; HTTP/1.1 would be 101
        Assert.False(socket.HttpResponseHeaders!.ContainsKey("Sec-WebSocket-Accept"));
        Assert.Equal("echo: over h2", Encoding.UTF8.GetString(buffer, 0, received.Count));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
        Assert.Equal(1, fixture.Pool.Backends[0].ResponsesOfClass(1));
    }

    [Fact]
    public async Task BackendSwitchingProtocolsUnasked_Is502()
    {
        using var liar = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        liar.Start();
        var answering = Task.Run(async () =>
        {
            using var client = await liar.AcceptTcpClientAsync();
            var stream = client.GetStream();
            _ = await stream.ReadAsync(new byte[4096]);
            await stream.WriteAsync("HTTP/1.1 101 Switching Protocols\r\nUpgrade: evil\r\nConnection: Upgrade\r\n\r\n"u8.ToArray());
            _ = await stream.ReadAsync(new byte[16]);
        });
        await using var fixture = await ForwarderFixture.StartAsync(("liar", new Uri($"http://127.0.0.1:{((IPEndPoint)liar.LocalEndpoint).Port}/")));

        using var response = await fixture.Client.GetAsync(new Uri("/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("switched protocols unasked", await response.Content.ReadAsStringAsync());
        await answering;
    }

    private static Task<LoopbackServer> TrailerBackend() => LoopbackServer.StartAsync(async context =>
    {
        await context.Response.WriteAsync($"{context.Request.Protocol} TE={context.Request.Headers.TE}");
        if (context.Response.SupportsTrailers())
        {
            context.Response.AppendTrailer("grpc-status", "0");
            context.Response.AppendTrailer("x-checksum", "abc123");
        }
    });

    private static HttpClient Http2Client() => new() { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

    [Fact]
    public async Task Http2Client_ToHttp2Backends_GoesOnOverHttp2_AndGetsTheBackendsTrailers()
    {
        await using var backend = await TrailerBackend();
        await using var fixture = await ForwarderFixture.StartAsync(new BackendPool([new Backend("a", backend.BaseUri)], new RoundRobinPolicy()), http2Backends: true);
        using var client = Http2Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, fixture.BaseUri)
        {
            Content = new StringContent("call"),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.TE.ParseAdd("trailers");

        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("HTTP/2 TE=trailers", body);
        Assert.Equal("0", string.Join(",", response.TrailingHeaders.GetValues("grpc-status")));
        Assert.Equal("abc123", string.Join(",", response.TrailingHeaders.GetValues("x-checksum")));
    }

    [Fact]
    public async Task Http2Client_ToPlainBackends_GoesOnOverHttp11()
    {
        await using var backend = await TrailerBackend();
        await using var fixture = await ForwarderFixture.StartAsync(("a", backend.BaseUri));
        using var client = Http2Client();

        using var response = await client.GetAsync(fixture.BaseUri);

        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("HTTP/1.1 TE=", await response.Content.ReadAsStringAsync());
        Assert.Empty(response.TrailingHeaders);
    }
}
