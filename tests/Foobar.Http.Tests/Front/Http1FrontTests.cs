using Foobar.Http.AccessLogs;
using Foobar.Http.Backends;
using Foobar.Http.Forwarder;
using Foobar.Http.Front;
using Foobar.Http.LoadBalancing;
using Foobar.Http.Tests.Forwarder.Http1;
using Foobar.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Foobar.Http.Tests.Front;

/// <summary>
/// The front on a real Kestrel listener: the requests it serves itself, the ones it hands to
/// Kestrel's pipeline on the same connection, and what it answers when no backend does.
/// </summary>
public class Http1FrontTests
{
    private const string Ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Served-By: app1\r\n\r\nok";

    /// <summary>A server named "front" whose front forwards paths under /api/ to <paramref name="pool"/>; Kestrel's pipeline answers "kestrel {method} {path} {body}".</summary>
    private sealed class Server : IAsyncDisposable
    {
        private LoopbackServer? _server;
        private int _kestrelRequests;

        public required Http1Front Front { get; init; }

        public Uri BaseUri => _server!.BaseUri;

        /// <summary>Requests Kestrel's pipeline served.</summary>
        public int KestrelRequests => Volatile.Read(ref _kestrelRequests);

        public static async Task<Server> StartAsync(BackendPool pool, TimeSpan? responseTimeout = null, TimeProvider? time = null, AccessLog? accessLog = null, IErrorPages? pages = null)
        {
            var forwarder = new HttpForwarder(ForwarderClient.Create(), NullLogger<HttpForwarder>.Instance)
            {
                ResponseTimeout = responseTimeout ?? TimeSpan.FromSeconds(60),
            };
            var server = new Server
            {
                Front = new Http1Front(forwarder, "front", request => request.Path.StartsWith("/api/", StringComparison.Ordinal) ? new FrontRoute(pool, pages) : null)
                {
                    IdleTimeout = TimeSpan.FromSeconds(30),
                    Time = time ?? TimeProvider.System,
                    AccessLog = accessLog,
                },
            };
            server._server = await LoopbackServer.StartAsync(app => app.Run(server.KestrelAsync), listen => server.Front.Use(listen));
            return server;
        }

        private async Task KestrelAsync(HttpContext context)
        {
            Interlocked.Increment(ref _kestrelRequests);
            var body = await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted);
            await context.Response.WriteAsync($"kestrel {context.Request.Method} {context.Request.Path} {body}", context.RequestAborted);
        }

        public async ValueTask DisposeAsync()
        {
            if (_server is not null)
            {
                await _server.DisposeAsync();
            }
        }
    }

    private static BackendPool PoolOf(params Uri[] backends) =>
        new(backends.Select((uri, i) => new Backend($"b{i + 1}", uri)).ToList(), new RoundRobinPolicy());

    [Fact]
    public async Task PlainGets_AreForwardedByTheFront_OnOneConnectionEachSide()
    {
        await using var backend = ScriptedBackend.Answering(Ok);
        await using var server = await Server.StartAsync(PoolOf(backend.BaseUri));
        using var client = await FrontClient.ConnectAsync(server.BaseUri);

        for (var i = 0; i < 5; i++)
        {
            var response = await client.GetAsync($"/api/{i}");
            Assert.Equal(200, response.Status);
            Assert.Equal("ok", response.Body);
            Assert.Equal("front, app1", response.Header("X-Served-By"));
            Assert.Matches("^[0-9a-f]{32}$", response.Header("X-Request-Id"));
        }

        Assert.Equal(0, server.KestrelRequests);
        Assert.Equal(1, backend.Connections);
        Assert.Equal(5, backend.Requests.Count);
        Assert.Equal(1, server.Front.Connections);
    }

    [Fact]
    public async Task TheBackendSeesTheForwardingHeaders_AndTheClientGetsTheRequestIdBack()
    {
        await using var backend = ScriptedBackend.Answering(Ok);
        await using var server = await Server.StartAsync(PoolOf(backend.BaseUri));
        using var client = await FrontClient.ConnectAsync(server.BaseUri);

        var response = await client.GetAsync("/api/x?y=1", "X-Forwarded-For: 203.0.113.9\r\nKeep-Alive: timeout=5\r\nX-Custom: kept\r\n");

        var head = Assert.Single(backend.Requests);
        Assert.StartsWith("GET /api/x?y=1 HTTP/1.1\r\nHost: www.foobar.com\r\n", head);
        Assert.Contains("\r\nX-Custom: kept", head);
        Assert.Contains("\r\nX-Forwarded-For: 203.0.113.9, 127.0.0.1", head);
        Assert.Contains("\r\nX-Forwarded-Proto: http", head);
        Assert.Contains("\r\nX-Forwarded-Host: www.foobar.com", head);
        Assert.DoesNotContain("Keep-Alive", head);
        Assert.Contains($"\r\nX-Request-Id: {response.Header("X-Request-Id")}", head);
    }

    [Fact]
    public async Task ARequestOutsideThePlainShape_AndEverythingAfterIt_GoToKestrel_OnTheSameConnection()
    {
        await using var backend = ScriptedBackend.Answering(Ok);
        await using var server = await Server.StartAsync(PoolOf(backend.BaseUri));
        using var client = await FrontClient.ConnectAsync(server.BaseUri);

        Assert.Equal("ok", (await client.GetAsync("/api/1")).Body);
        await client.SendAsync("POST /api/2 HTTP/1.1\r\nHost: www.foobar.com\r\nContent-Length: 5\r\n\r\nhello");
        Assert.Equal("kestrel POST /api/2 hello", (await client.ReadResponseAsync()).Body);
        Assert.Equal("kestrel GET /api/3 ", (await client.GetAsync("/api/3")).Body);

        Assert.Equal(2, server.KestrelRequests);
        Assert.Single(backend.Requests);
        Assert.Equal(0, server.Front.Connections);
    }

    [Fact]
    public async Task APathTheRouteLeavesAlone_GoesToKestrel()
    {
        await using var backend = ScriptedBackend.Answering(Ok);
        await using var server = await Server.StartAsync(PoolOf(backend.BaseUri));
        using var client = await FrontClient.ConnectAsync(server.BaseUri);

        Assert.Equal("kestrel GET /static.css ", (await client.GetAsync("/static.css")).Body);
        Assert.Empty(backend.Requests);
    }

    [Theory]
    [InlineData("GET /api/x HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n", "400")]
    [InlineData("GET /api/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "400")]
    [InlineData("GET /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "400")]
    [InlineData("GET /api/x HTTP/1.1\r\n\r\n", "400")]
    public async Task MalformedRequests_GetKestrelsAnswer_AndNeverReachABackend(string request, string status)
    {
        await using var backend = ScriptedBackend.Answering(Ok);
        await using var server = await Server.StartAsync(PoolOf(backend.BaseUri));

        var response = await RawHttp.ExchangeAsync(System.Net.IPAddress.Loopback, server.BaseUri.Port, request);

        Assert.Equal(status, RawHttp.StatusOf(response));
        Assert.Empty(backend.Requests);
    }

    [Fact]
    public async Task HeadersOverKestrelsLimit_Get431()
    {
        await using var backend = ScriptedBackend.Answering(Ok);
        await using var server = await Server.StartAsync(PoolOf(backend.BaseUri));

        var response = await RawHttp.ExchangeAsync(System.Net.IPAddress.Loopback, server.BaseUri.Port,
            $"GET /api/x HTTP/1.1\r\nHost: a\r\nX-Big: {new string('x', 40 * 1024)}\r\n\r\n");

        Assert.Equal("431", RawHttp.StatusOf(response));
        Assert.Empty(backend.Requests);
    }

    [Fact]
    public async Task AChunkedResponse_GoesOnChunked_AndTheConnectionIsKept()
    {
        await using var backend = ScriptedBackend.Answering("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n");
        await using var server = await Server.StartAsync(PoolOf(backend.BaseUri));
        using var client = await FrontClient.ConnectAsync(server.BaseUri);

        var first = await client.GetAsync("/api/a");
        var second = await client.GetAsync("/api/b");

        Assert.Equal("chunked", first.Header("Transfer-Encoding"));
        Assert.Equal("hello world", first.Body);
        Assert.Equal("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", first.RawBody);
        Assert.Equal("hello world", second.Body);
        Assert.Equal(1, backend.Connections);
    }

    [Fact]
    public async Task ABodyEndingWithTheBackendsConnection_ClosesTheClients()
    {
        await using var backend = ScriptedBackend.Start(async exchange =>
        {
            await exchange.SendAsync("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end");
            exchange.Close = true;
        });
        await using var server = await Server.StartAsync(PoolOf(backend.BaseUri));
        using var client = await FrontClient.ConnectAsync(server.BaseUri);

        var response = await client.GetAsync("/api/a");

        Assert.Equal("close", response.Header("Connection"));
        Assert.Equal("until the end", response.Body);
    }

    [Fact]
    public async Task Head_GetsTheHeadersOnly()
    {
        await using var backend = ScriptedBackend.Start(exchange => exchange.SendAsync(exchange.Head.StartsWith("HEAD", StringComparison.Ordinal)
            ? "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nContent-Type: text/html\r\n\r\n"
            : Ok));
        await using var server = await Server.StartAsync(PoolOf(backend.BaseUri));
        using var client = await FrontClient.ConnectAsync(server.BaseUri);

        await client.SendAsync("HEAD /api/a HTTP/1.1\r\nHost: a\r\n\r\n");
        var head = await client.ReadResponseAsync(head: true);
        var next = await client.GetAsync("/api/b");

        Assert.Equal("1234", head.Header("Content-Length"));
        Assert.Equal("text/html", head.Header("Content-Type"));
        Assert.StartsWith("HEAD /api/a HTTP/1.1", backend.Requests.First());
        Assert.Equal(200, next.Status);
    }

    [Fact]
    public async Task ConnectionClose_FromTheClient_ClosesAfterTheResponse()
    {
        await using var backend = ScriptedBackend.Answering(Ok);
        await using var server = await Server.StartAsync(PoolOf(backend.BaseUri));
        using var client = await FrontClient.ConnectAsync(server.BaseUri);

        var response = await client.GetAsync("/api/a", "Connection: close\r\n");

        Assert.Equal("ok", response.Body);
        Assert.Equal("close", response.Header("Connection"));
        Assert.True(await client.ClosedWithinAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task ABackendThatClosesWithoutAnswering_IsCounted_AndTheNextOneAnswers()
    {
        await using var broken = ScriptedBackend.Start(exchange =>
        {
            exchange.Close = true;
            return Task.CompletedTask;
        });
        await using var good = ScriptedBackend.Answering(Ok);
        var pool = PoolOf(broken.BaseUri, good.BaseUri);
        await using var server = await Server.StartAsync(pool);
        using var client = await FrontClient.ConnectAsync(server.BaseUri);

        var response = await client.GetAsync("/api/a");

        Assert.Equal("ok", response.Body);
        Assert.Equal(1, pool.Backends[0].Retried);
        Assert.Single(good.Requests);
    }

    [Fact]
    public async Task NoBackendUp_503FromTheFront_WithTheSitesPage_AndTheConnectionKept()
    {
        var pool = PoolOf(LoopbackServer.ClosedPort());
        await using var server = await Server.StartAsync(pool, pages: new Pages());
        using var client = await FrontClient.ConnectAsync(server.BaseUri);

        var first = await client.GetAsync("/api/a");
        var second = await client.GetAsync("/api/b");

        Assert.Equal(502, first.Status);
        Assert.Equal("<h1>502</h1>", first.Body);
        Assert.Equal("text/html", first.Header("Content-Type"));
        Assert.Equal("front", first.Header("X-Served-By"));
        Assert.Equal(BackendState.Down, pool.Backends[0].State);
        // Down now: nobody is tried.
        Assert.Equal(503, second.Status);
        Assert.Equal(0, server.KestrelRequests);
    }

    private sealed class Pages : IErrorPages
    {
        public bool TryGet(int status, out ReadOnlyMemory<byte> body, out string contentType)
        {
            body = System.Text.Encoding.ASCII.GetBytes($"<h1>{status}</h1>");
            contentType = "text/html";
            return true;
        }
    }

    [Fact]
    public async Task ABackendThatDoesNotAnswerInTime_504()
    {
        var answer = new TaskCompletionSource();
        await using var silent = ScriptedBackend.Start(_ => answer.Task);
        await using var server = await Server.StartAsync(PoolOf(silent.BaseUri), responseTimeout: TimeSpan.FromMilliseconds(300));
        using var client = await FrontClient.ConnectAsync(server.BaseUri);

        var response = await client.GetAsync("/api/a");
        answer.SetResult();

        Assert.Equal(504, response.Status);
        Assert.Contains("b1 did not answer", response.Body);
    }

    [Fact]
    public async Task ABackendThatSwitchesProtocolsUnasked_502()
    {
        await using var backend = ScriptedBackend.Answering("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
        await using var server = await Server.StartAsync(PoolOf(backend.BaseUri));
        using var client = await FrontClient.ConnectAsync(server.BaseUri);

        var response = await client.GetAsync("/api/a");

        Assert.Equal(502, response.Status);
        Assert.Contains("switched protocols unasked", response.Body);
    }

    [Fact]
    public async Task ABodyThatBreaksOff_CutsTheClientsConnection()
    {
        await using var backend = ScriptedBackend.Start(async exchange =>
        {
            await exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part");
            exchange.Close = true;
        });
        await using var server = await Server.StartAsync(PoolOf(backend.BaseUri));
        using var client = await FrontClient.ConnectAsync(server.BaseUri);

        await client.SendAsync("GET /api/a HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.True(await client.ClosedWithinAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task AnIdleConnection_IsClosedAfterTheIdleTimeout()
    {
        var time = new FakeTimeProvider();
        await using var backend = ScriptedBackend.Answering(Ok);
        await using var server = await Server.StartAsync(PoolOf(backend.BaseUri), time: time);
        using var client = await FrontClient.ConnectAsync(server.BaseUri);
        Assert.Equal("ok", (await client.GetAsync("/api/a")).Body);

        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(await client.ClosedWithinAsync(TimeSpan.FromMilliseconds(200)));
        Assert.Equal("ok", (await client.GetAsync("/api/b")).Body);
        time.Advance(TimeSpan.FromSeconds(31));

        Assert.True(await client.ClosedWithinAsync(TimeSpan.FromSeconds(10)));
        await Eventually.TrueAsync(() => server.Front.Connections == 0, "the front to forget the closed connection");
    }

    [Fact]
    public async Task StoppingTheServer_ClosesIdleConnectionsAtOnce()
    {
        await using var backend = ScriptedBackend.Answering(Ok);
        var server = await Server.StartAsync(PoolOf(backend.BaseUri));
        using var client = await FrontClient.ConnectAsync(server.BaseUri);
        Assert.Equal("ok", (await client.GetAsync("/api/a")).Body);

        var stopping = server.DisposeAsync();

        // Kestrel would otherwise wait for the connection until its shutdown timeout (30 s).
        Assert.True(await client.ClosedWithinAsync(TimeSpan.FromSeconds(10)));
        await stopping;
    }

    [Fact]
    public async Task TheBackendsHeaders_PassOnAsSent_ItsOwnRequestIdOnce_ItsHopsHeadersLeftOut()
    {
        await using var backend = ScriptedBackend.Answering(
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: X-Hop\r\nX-Hop: no\r\nx-request-id: from-app\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nok");
        await using var server = await Server.StartAsync(PoolOf(backend.BaseUri));
        using var client = await FrontClient.ConnectAsync(server.BaseUri);

        var response = await client.GetAsync("/api/x");

        Assert.Equal("ok", response.Body);
        var lines = response.Head.Split("\r\n");
        Assert.Equal("from-app", Assert.Single(lines, line => line.StartsWith("X-Request-Id:", StringComparison.OrdinalIgnoreCase))[13..].Trim());
        Assert.Equal(["Set-Cookie: a=1", "Set-Cookie: b=2"], lines.Where(line => line.StartsWith("Set-Cookie:", StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, line => line.StartsWith("X-Hop", StringComparison.OrdinalIgnoreCase) || line.StartsWith("Connection", StringComparison.OrdinalIgnoreCase));
        Assert.Equal("front", response.Header("X-Served-By"));
        Assert.Equal("2", response.Header("Content-Length"));
    }

    [Fact]
    public async Task PipelinedRequests_AreEachAnsweredInOrder()
    {
        var body = new string('x', 2135);
        await using var backend = ScriptedBackend.Answering($"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nDate: Wed, 25 Nov 2026 01:41:48 GMT\r\nCache-Control: no-store\r\nX-Served-By: app1, db2\r\nContent-Length: {body.Length}\r\n\r\n{body}");
        await using var server = await Server.StartAsync(PoolOf(backend.BaseUri));
        var clients = new List<Task>();
        for (var c = 0; c < 8; c++)
        {
            clients.Add(Task.Run(async () =>
            {
                using var client = await FrontClient.ConnectAsync(server.BaseUri);
                for (var batch = 0; batch < 300; batch++)
                {
                    await client.SendAsync(string.Concat(Enumerable.Range(0, 4).Select(i => $"GET /api/{batch}-{i} HTTP/1.1\r\nHost: www.foobar.com\r\n\r\n")));
                    for (var i = 0; i < 4; i++)
                    {
                        var response = await client.ReadResponseAsync();
                        Assert.True(response.Status == 200, $"batch {batch} request {i}: {response.Head}");
                        Assert.Equal(body, response.Body);
                    }
                }
            }));
        }

        await Task.WhenAll(clients);
    }

    [Fact]
    public async Task PipelinedRequestsWrittenInPieces_AreEachAnswered_WhereverTheHeadsAreCut()
    {
        // A head cut by a segment's end is Kestrel's from there on (the front reads whole heads
        // only; here Kestrel's pipeline answers "kestrel GET {path} "): every request must be
        // answered, in order, by the front (the backend's body) until Kestrel takes over mid-stream,
        // then by Kestrel. (Four requests in three pieces also made a web server answer 408 or 400
        // now and then, rarely enough that this does not catch it: the loop's batch of reads took a
        // send's result; EpollTransportTests.ReadsOfOneTurn_… makes that happen every time.)
        var body = new string('y', 1500);
        await using var backend = ScriptedBackend.Answering($"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\n\r\n{body}");
        await using var server = await Server.StartAsync(PoolOf(backend.BaseUri));
        var clients = Enumerable.Range(0, 8).Select(c => Task.Run(async () =>
        {
            var random = new Random(c);
            var kestrels = false;
            using var client = await FrontClient.ConnectAsync(server.BaseUri);
            for (var batch = 0; batch < 150; batch++)
            {
                await client.SendInPiecesAsync(string.Concat(Enumerable.Range(0, 4).Select(i => $"GET /api/{batch}-{i} HTTP/1.1\r\nHost: www.foobar.com\r\n\r\n")), random, pieces: 3);
                for (var i = 0; i < 4; i++)
                {
                    var response = await client.ReadResponseAsync().WaitAsync(TimeSpan.FromSeconds(30));
                    Assert.True(response.Status == 200, $"client {c} batch {batch} request {i}: {response.Head}");
                    kestrels |= response.Body.StartsWith("kestrel ", StringComparison.Ordinal);
                    Assert.Equal(kestrels ? $"kestrel GET /api/{batch}-{i} " : body, response.Body);
                }
            }
        })).ToList();

        await Task.WhenAll(clients);
    }

    [Fact]
    public async Task TheAccessLog_GetsTheFrontsRequests()
    {
        var path = Path.Combine(Path.GetTempPath(), $"front-access-{Guid.NewGuid():N}.log");
        var log = new AccessLog(path, AccessLogFormat.Combined);
        using var stop = new CancellationTokenSource();
        var writing = log.RunAsync(stop.Token);
        try
        {
            await using var backend = ScriptedBackend.Answering(Ok);
            await using var server = await Server.StartAsync(PoolOf(backend.BaseUri), accessLog: log);
            using var client = await FrontClient.ConnectAsync(server.BaseUri);

            var response = await client.GetAsync("/api/x?y=1", "User-Agent: test-agent\r\n");

            await Eventually.TrueAsync(() => File.Exists(path) && File.ReadAllText(path).Contains("\"GET /api/x?y=1 HTTP/1.1\" 200 2", StringComparison.Ordinal),
                "the request in the access log");
            var line = File.ReadAllText(path);
            Assert.Contains("test-agent", line);
            Assert.Contains(response.Header("X-Request-Id")!, line);
            Assert.Contains("app1", line);
        }
        finally
        {
            await stop.CancelAsync();
            await writing;
            File.Delete(path);
        }
    }
}
