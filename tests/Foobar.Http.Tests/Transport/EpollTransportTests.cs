using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Foobar.Http.Transport;
using Foobar.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Foobar.Http.Tests.Transport;

/// <summary>Kestrel on the epoll transport, and connections it opens to backends, against real loopback peers.</summary>
public sealed class EpollTransportTests
{
    /// <summary>Kestrel with only our transport, on 127.0.0.1 and a free port (or <paramref name="endPoint"/>).</summary>
    private static async Task<(WebApplication App, Uri BaseUri)> StartAsync(RequestDelegate handler, IPEndPoint? endPoint = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IConnectionListenerFactory, EpollTransportFactory>();
        builder.WebHost.ConfigureKestrel(k => k.Listen(endPoint ?? new IPEndPoint(IPAddress.Loopback, 0)));
        var app = builder.Build();
        app.Run(handler);
        await app.StartAsync();
        return (app, new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()));
    }

    [Fact]
    public async Task KeepAlive_ManyRequestsOnOneConnection_AreAnsweredByOurTransport()
    {
        var (app, baseUri) = await StartAsync(c => c.Response.WriteAsync($"{c.Connection.Id} {c.Request.Path}"));
        await using var _ = app;
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 });

        var answers = new List<string>();
        for (var i = 0; i < 200; i++)
        {
            answers.Add(await client.GetStringAsync(new Uri(baseUri, $"/r{i}")));
        }

        Assert.Single(answers.Select(a => a.Split(' ')[0]).Distinct());
        Assert.StartsWith("E", answers[0]);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"/r{i}"), answers.Select(a => a.Split(' ')[1]));
    }

    /// <summary>
    /// Three requests on each of twice as many connections as there are loops, so they spread over
    /// the loops; Kestrel may read a connection's first request on a pool thread, the later ones
    /// its loop hands over. The answers in order.
    /// </summary>
    private static async Task<List<string>> OverSeveralConnectionsAsync(Uri baseUri)
    {
        var answers = new List<string>();
        for (var i = 0; i < 2 * EpollLoop.Count; i++)
        {
            using var client = new HttpClient();
            for (var request = 0; request < 3; request++)
            {
                answers.Add(await client.GetStringAsync(baseUri));
            }
        }
        return answers;
    }

    /// <summary>The calling thread's scheduling policy: field 41 of /proc/thread-self/stat (sched(7): 0 normal, 3 batch).</summary>
    private static int SchedulingPolicy()
    {
        var stat = File.ReadAllText("/proc/thread-self/stat");
        // The thread's name, in parentheses, may hold spaces: fields count from after it, where the third is.
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[41 - 3], CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task TheLoopsThreads_RunAsBatchThreads_AndOthersNormally()
    {
        var (app, baseUri) = await StartAsync(c => c.Response.WriteAsync(EpollLoop.Current is null ? "-" : SchedulingPolicy().ToString(CultureInfo.InvariantCulture)));
        await using var _ = app;

        var answers = await OverSeveralConnectionsAsync(baseUri);

        var onLoops = answers.Where(answer => answer != "-").ToList();
        Assert.NotEmpty(onLoops);
        Assert.All(onLoops, policy => Assert.Equal("3", policy));
        Assert.Equal(0, SchedulingPolicy());
    }

    /// <summary>
    /// A request that waited for a backend's slot, served by a request finishing on a loop's thread:
    /// it continues on that thread, but only once the finishing request's code has returned — never
    /// nested in it (the finishing request may still be inside its backend connection's read,
    /// which the waiter may take up: a web server with maxconn answered 400 to some requests so).
    /// </summary>
    [Fact]
    public async Task AQueuedRequest_ServedOnALoop_ContinuesOnThatLoop_AfterTheCodeThatServedIt()
    {
        var (app, baseUri) = await StartAsync(async context =>
        {
            if (EpollLoop.Current is null)
            {
                await context.Response.WriteAsync("-");
                return;
            }
            var loopThread = Environment.CurrentManagedThreadId;
            var backend = new Foobar.Http.Backends.Backend("a", new Uri("http://a/")) { MaxConcurrent = 1 };
            var pool = new Foobar.Http.Backends.BackendPool([backend], new Foobar.Http.LoadBalancing.RoundRobinPolicy());
            await pool.AcquireAsync([], default, CancellationToken.None);
            var released = false;
            var waiting = WaitAsync();
            pool.Release(backend);
            released = true;
            var (thread, afterRelease) = await waiting;
            await context.Response.WriteAsync(thread == loopThread && afterRelease ? "posted" : $"on {thread} (loop {loopThread}), after the release: {afterRelease}");

            async Task<(int Thread, bool AfterRelease)> WaitAsync()
            {
                await pool.AcquireAsync([], default, CancellationToken.None).ConfigureAwait(false);
                return (Environment.CurrentManagedThreadId, released);
            }
        });
        await using var _ = app;

        var answers = await OverSeveralConnectionsAsync(baseUri);

        var onLoops = answers.Where(answer => answer != "-").ToList();
        Assert.NotEmpty(onLoops);
        Assert.All(onLoops, answer => Assert.Equal("posted", answer));
    }

    [Fact]
    public async Task TheLoopsThreads_AreNamedForTheirLoop_AsLinuxShowsThem()
    {
        var (app, baseUri) = await StartAsync(c => c.Response.WriteAsync(
            EpollLoop.Current is { } loop ? $"{loop.Index}={File.ReadAllText("/proc/thread-self/comm").TrimEnd('\n')}" : "-"));
        await using var _ = app;

        var answers = await OverSeveralConnectionsAsync(baseUri);

        var onLoops = answers.Where(answer => answer != "-").ToList();
        Assert.NotEmpty(onLoops);
        // What top -H and ps -L show: the whole name, within Linux's 15 characters.
        Assert.All(onLoops, answer => Assert.Equal($"http loop {answer.Split('=')[0]}", answer.Split('=')[1]));
    }

    [Fact]
    public async Task AConnectionOpenedOnALoopsThread_IsHandledOnThatLoop()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var peer = (IPEndPoint)listener.LocalEndpoint;
        var (app, baseUri) = await StartAsync(async c =>
        {
            var loop = EpollLoop.Current?.Index;
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            var outbound = await EpollConnection.ConnectAsync(socket, peer, EpollTransport.Pool, c.RequestAborted);
            await using (outbound)
            {
                await c.Response.WriteAsync($"{loop} {outbound.LoopIndex}");
            }
        });
        await using var _ = app;

        var answers = await OverSeveralConnectionsAsync(baseUri);

        // Which loops the connections went to depends on other tests' connections too.
        var onLoops = answers.Where(answer => answer[0] != ' ').ToList();
        Assert.True(onLoops.Count >= EpollLoop.Count, string.Join(" | ", answers));
        Assert.All(onLoops, answer => Assert.Equal(answer.Split(' ')[0], answer.Split(' ')[1]));
    }

    [Fact]
    public async Task LargeUploadEchoedBack_ArrivesWhole_ThroughBothWaysOfWaiting()
    {
        // 8 MB: more than the input pipe holds (reading pauses and resumes) and than the socket
        // buffers hold (sending waits for the peer to read). The client reads while it sends:
        // HttpClient would finish sending first, and an echo larger than every buffer on the way
        // then waits for ever, on whatever transport.
        var (app, baseUri) = await StartAsync(async c =>
        {
            c.Response.ContentLength = c.Request.ContentLength;
            await c.Request.Body.CopyToAsync(c.Response.Body);
        });
        await using var _ = app;
        var body = new byte[8 << 20];
        new Random(5).NextBytes(body);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(baseUri.Host, baseUri.Port);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var sending = Task.Run(async () =>
        {
            await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes($"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {body.Length}\r\n\r\n"), deadline.Token);
            await socket.SendAsync(body, deadline.Token);
        });
        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        var headLength = -1;
        while (headLength < 0 || received.Length < headLength + body.Length)
        {
            var n = await socket.ReceiveAsync(buffer, deadline.Token);
            Assert.True(n > 0, $"the server closed after {received.Length} bytes");
            received.Write(buffer, 0, n);
            if (headLength < 0 && received.GetBuffer().AsSpan(0, (int)received.Length).IndexOf("\r\n\r\n"u8) is var end and >= 0)
            {
                headLength = end + 4;
            }
        }
        await sending;

        var response = received.ToArray();
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", System.Text.Encoding.ASCII.GetString(response, 0, headLength));
        Assert.Equal(SHA256.HashData(body), SHA256.HashData(response.AsSpan(headLength)));
    }

    [Fact]
    public async Task ClientGoneMidResponse_TheRequestIsAborted()
    {
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (app, baseUri) = await StartAsync(async c =>
        {
            c.RequestAborted.Register(() => aborted.TrySetResult());
            try
            {
                while (!c.RequestAborted.IsCancellationRequested)
                {
                    await c.Response.WriteAsync(new string('x', 1024), c.RequestAborted);
                    await Task.Delay(10, c.RequestAborted);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        await using var _ = app;
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(baseUri.Host, baseUri.Port);
        await socket.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        var buffer = new byte[4096];
        Assert.True(await socket.ReceiveAsync(buffer) > 0);

        socket.Close();

        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task ServerAborts_TheClientSeesTheConnectionCut()
    {
        var (app, baseUri) = await StartAsync(c =>
        {
            c.Abort();
            return Task.CompletedTask;
        });
        await using var _ = app;
        using var client = new HttpClient();

        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(baseUri));
    }

    [Fact]
    public async Task Bind_AddressTaken_IsKestrelsAddressInUseError()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();

        var e = await Assert.ThrowsAsync<IOException>(() => StartAsync(_ => Task.CompletedTask, (IPEndPoint)taken.LocalEndpoint));

        Assert.Contains("address already in use", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Connect_ExchangesBytesBothWays_AndSeesThePeerClose()
    {
        var (connection, peer) = await ConnectedPair.ConnectAsync();
        await using var _ = connection;
        using var __ = peer;

        await connection.Transport.Output.WriteAsync("ping"u8.ToArray());
        var received = new byte[4];
        Assert.Equal(4, await peer.ReceiveAsync(received));
        Assert.Equal("ping"u8.ToArray(), received);
        await peer.SendAsync("pong"u8.ToArray());
        Assert.Equal("pong", await ReadAsync(connection.Transport.Input, 4));
        peer.Shutdown(SocketShutdown.Send);

        var end = await connection.Transport.Input.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(end.IsCompleted);
        Assert.True(end.Buffer.IsEmpty);
    }

    [Fact]
    public async Task ManyConnections_OpenedClosedAndOpenedAgain_EachGetsItsOwnBytes()
    {
        // More connections than a loop's first table of slots, then as many again in the slots
        // the first left: every answer must reach the connection it was sent to.
        for (var wave = 0; wave < 2; wave++)
        {
            var pairs = await Task.WhenAll(Enumerable.Range(0, 160).Select(_ => ConnectedPair.ConnectAsync()));
            try
            {
                await Task.WhenAll(pairs.Select((pair, i) => pair.Peer.SendAsync(Encoding.ASCII.GetBytes($"{wave}:{i:D3}"))));
                for (var i = 0; i < pairs.Length; i++)
                {
                    Assert.Equal($"{wave}:{i:D3}", await ReadAsync(pairs[i].Connection.Transport.Input, 5).WaitAsync(TimeSpan.FromSeconds(10)));
                }
            }
            finally
            {
                foreach (var (connection, peer) in pairs)
                {
                    await connection.DisposeAsync();
                    peer.Dispose();
                }
            }
        }
    }

    [Fact]
    public async Task ManyClientsAtOnce_TheirResponsesSentTogetherAtTheTurnsEnd_EachGetsItsOwnWhole()
    {
        // Responses written on the loop's thread go out at the end of its turn, many connections'
        // with one io_uring_enter (LoopRing); a large one fills its socket, and the rest goes with
        // EPOLLOUT. Every client must read exactly its own answers, in order.
        var (app, baseUri) = await StartAsync(async c =>
        {
            var large = c.Request.Query.ContainsKey("large");
            var text = $"{c.Request.Path}|";
            var body = Encoding.ASCII.GetBytes(large ? string.Concat(Enumerable.Repeat(text, 200_000 / text.Length)) : text);
            c.Response.ContentLength = body.Length;
            await c.Response.Body.WriteAsync(body);
        });
        await using var _ = app;
        var before = LoopRing.Submitted;
        const int clients = 64, requests = 30;
        // All connected first, then each asks and reads in turn: many connections wait on the
        // loops at once, so their answers meet in turns.
        var sockets = await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(baseUri.Host, baseUri.Port);
            return socket;
        }));
        try
        {
            await Task.WhenAll(sockets.Select(async (socket, client) =>
            {
                var reader = PipeReader.Create(new NetworkStream(socket));
                for (var r = 0; r < requests; r++)
                {
                    await socket.SendAsync(Encoding.ASCII.GetBytes($"GET /c{client}/r{r}{(r % 7 == 3 ? "?large" : "")} HTTP/1.1\r\nHost: x\r\n\r\n"));
                    var body = await ReadResponseBodyAsync(reader).WaitAsync(TimeSpan.FromSeconds(30));
                    var text = $"/c{client}/r{r}|";
                    Assert.True(body.Length > 0 && body.Length % text.Length == 0, $"client {client} request {r}: {body.Length} bytes");
                    Assert.Equal(string.Concat(Enumerable.Repeat(text, body.Length / text.Length)), body);
                }
            }));
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }

        if (LoopRing.IsAvailable)
        {
            Assert.True(LoopRing.Submitted > before, "no response went through the loops' io_uring");
        }
    }

    [Fact]
    public async Task AResponseFlushedAndThenAborted_OnTheLoopsThread_StillReachesTheClient()
    {
        // The flush leaves the bytes for the end of the loop's turn; the abort comes first, in the
        // same turn, and must send them before it cuts the connection.
        var (app, baseUri) = await StartAsync(async c =>
        {
            c.Response.ContentLength = 11;
            await c.Response.Body.WriteAsync("sent, then"u8.ToArray().Append((byte)'!').ToArray());
            await c.Response.Body.FlushAsync();
            c.Abort();
        });
        await using var _ = app;
        for (var i = 0; i < 20; i++)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(baseUri.Host, baseUri.Port);
            await socket.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());

            var body = await ReadResponseBodyAsync(PipeReader.Create(new NetworkStream(socket))).WaitAsync(TimeSpan.FromSeconds(10));

            Assert.Equal("sent, then!", body);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AResponseFlushedBeforeASlowPieceOfWorkInTheSameTurn_ReachesTheClientDuringIt(bool afterTheRescuerParked)
    {
        // Two requests in one packet: the first is answered and flushed (its bytes wait for the
        // turn's end), then the second's handler holds the loop's thread until the client has the
        // first answer. Only the rescuer can send it meanwhile: a heartbeat's answer must not wait
        // behind a slow piece of work (code compiled on first use, on a busy machine).
        // Kestrel runs a request on the loop's thread only when it was already waiting there for
        // it; on a busy machine it may still be on a pool thread from the request before, so the
        // pair is sent again on the same connection until it ran on the loop.
        var firstArrived = new ManualResetEventSlim();
        var heldFor = TimeSpan.Zero;
        var onLoop = false;
        var (app, baseUri) = await StartAsync(async c =>
        {
            if (c.Request.Path == "/fast")
            {
                onLoop = EpollLoop.Current is not null;
            }
            if (c.Request.Path == "/slow")
            {
                var clock = Stopwatch.StartNew();
                firstArrived.Wait(TimeSpan.FromSeconds(10));
                heldFor = clock.Elapsed;
            }
            c.Response.ContentLength = 4;
            await c.Response.Body.WriteAsync(Encoding.ASCII.GetBytes(c.Request.Path.Value![1..5]));
        });
        await using var _ = app;
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(baseUri.Host, baseUri.Port);
        var reader = PipeReader.Create(new NetworkStream(socket));
        // A first request, so that Kestrel waits for the next on the loop (the first runs on the pool).
        await socket.SendAsync("GET /warm HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        Assert.Equal("warm", await ReadResponseBodyAsync(reader).WaitAsync(TimeSpan.FromSeconds(20)));
        for (var attempt = 0; attempt < 20 && !onLoop; attempt++)
        {
            firstArrived.Dispose();
            firstArrived = new ManualResetEventSlim();
            var rescuedBefore = EpollLoop.Rescued;
            if (afterTheRescuerParked && LoopRing.IsAvailable)
            {
                // Idle for 200 ms, the rescuer sleeps until a loop defers: that deferral must wake it.
                await Eventually.TrueAsync(() => EpollLoop.RescuerParked, "the rescuer parked", TimeSpan.FromSeconds(60));
            }
            await socket.SendAsync("GET /fast HTTP/1.1\r\nHost: x\r\n\r\nGET /slow HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());

            var first = await ReadResponseBodyAsync(reader).WaitAsync(TimeSpan.FromSeconds(20));
            firstArrived.Set();
            var second = await ReadResponseBodyAsync(reader).WaitAsync(TimeSpan.FromSeconds(20));

            Assert.Equal("fast", first);
            Assert.Equal("slow", second);
            // The first answer came while the second's handler still held the thread (it let go on seeing it, not after its 10 s).
            Assert.True(heldFor < TimeSpan.FromSeconds(9), $"the thread was held {heldFor.TotalSeconds:0.0} s: the first answer waited for the end of the turn");
            if (onLoop)
            {
                Assert.True(EpollLoop.Rescued > rescuedBefore || !LoopRing.IsAvailable, "the first answer went out, but not through the rescuer");
            }
        }
        firstArrived.Dispose();
        Assert.True(onLoop, "in 20 tries the pair never ran on the loop's thread");
    }

    [Fact]
    public void TheRescuer_LooksLessOftenWhileNothingNeedsRescuing_AndAtItsFirstPaceAfterARescue()
    {
        var check = EpollLoop.RescueCheck;
        var waits = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            check = EpollLoop.NextRescueCheck(check, rescued: false);
            waits.Add(check.TotalMilliseconds);
        }

        Assert.Equal([50, 100, 200, 200, 200], waits);
        Assert.Equal(EpollLoop.RescueCheck, EpollLoop.NextRescueCheck(EpollLoop.RescueCheckMost, rescued: true));
    }

    /// <summary>Reads one HTTP/1.1 response with a Content-Length from <paramref name="reader"/>: its body.</summary>
    private static async Task<string> ReadResponseBodyAsync(PipeReader reader)
    {
        while (true)
        {
            var read = await reader.ReadAsync();
            var buffer = read.Buffer;
            var text = Encoding.ASCII.GetString(buffer.ToArray());
            var headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (headEnd >= 0)
            {
                Assert.StartsWith("HTTP/1.1 200", text);
                var line = text[..headEnd].Split("\r\n").Single(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
                var length = int.Parse(line["Content-Length:".Length..].Trim(), CultureInfo.InvariantCulture);
                if (buffer.Length >= headEnd + 4 + length)
                {
                    var body = text.Substring(headEnd + 4, length);
                    reader.AdvanceTo(buffer.GetPosition(headEnd + 4 + length));
                    return body;
                }
            }
            Assert.False(read.IsCompleted, "the connection ended before a whole response");
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    [Fact]
    public async Task ManyPeersSendingThenClosingAtOnce_EachConnectionReadsItsBytesThenTheEnd()
    {
        // Readable together, the connections are read in one io_uring_enter (LoopRing): every one
        // must get its own bytes, then see the end (a recv of 0) or the reset, and nothing else.
        // Whether a loop's turn finds several readable at once depends on the machine's load (a
        // loop woken by each peer in turn reads each alone): the scenario runs again until one did.
        var batched = false;
        for (var round = 0; round < 10 && !batched; round++)
        {
            var before = LoopRing.Submitted;
            await ManyPeersSendingThenClosingAtOnceAsync();
            batched = !LoopRing.IsAvailable || LoopRing.Submitted > before;
        }
        Assert.True(batched, "in 10 rounds no read went through the loops' io_uring");
    }

    private static async Task ManyPeersSendingThenClosingAtOnceAsync()
    {
        var pairs = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => ConnectedPair.ConnectAsync()));
        try
        {
            // Even peers send and close; odd ones reset without sending (a reset may end a read
            // before the bytes it came after, as a pipe's error does).
            await Task.WhenAll(pairs.Where((_, i) => i % 2 == 0).Select((pair, i) => pair.Peer.SendAsync(Encoding.ASCII.GetBytes($"bytes of {2 * i:D3}"))));
            for (var i = 0; i < pairs.Length; i++)
            {
                if (i % 2 == 1)
                {
                    pairs[i].Peer.LingerState = new LingerOption(true, 0);
                }
                pairs[i].Peer.Dispose();
            }
            for (var i = 0; i < pairs.Length; i++)
            {
                var input = pairs[i].Connection.Transport.Input;
                if (i % 2 == 0)
                {
                    Assert.Equal($"bytes of {i:D3}", await ReadAsync(input, 12).WaitAsync(TimeSpan.FromSeconds(10)));
                    Assert.Null(await ReadEndAsync(input).WaitAsync(TimeSpan.FromSeconds(10)));
                }
                else
                {
                    var end = await ReadEndAsync(input).WaitAsync(TimeSpan.FromSeconds(10));
                    Assert.True(end is null or ConnectionResetException, $"connection {i}: {end}");
                }
            }
        }
        finally
        {
            foreach (var (connection, peer) in pairs)
            {
                await connection.DisposeAsync();
                peer.Dispose();
            }
        }
    }

    /// <summary>Reads until the input ends: null when it completed, or the exception it ended with.</summary>
    private static async Task<Exception?> ReadEndAsync(PipeReader input)
    {
        try
        {
            while (true)
            {
                var read = await input.ReadAsync();
                Assert.True(read.Buffer.IsEmpty, $"{read.Buffer.Length} more bytes after the peer's");
                input.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    return null;
                }
            }
        }
        catch (ConnectionResetException e)
        {
            return e;
        }
    }

    [Fact]
    public async Task Dispose_ThePeerReadingNothing_CutsTheConnectionInsteadOfWaitingForEver()
    {
        var (connection, peer) = await ConnectedPair.ConnectAsync();
        using var peerSocket = peer;
        // Far more than the socket buffers hold; the peer never reads.
        _ = connection.Transport.Output.WriteAsync(new byte[32 << 20]);

        await connection.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        await Eventually.TrueAsync(() => connection.ConnectionClosed.IsCancellationRequested, "ConnectionClosed fired");
    }

    [Fact]
    public async Task AnEdgeForASocketClosedMeanwhile_EndsItsInput_NeverEscapesToTheLoop()
    {
        // The shape that killed web servers in CI: an app server shut down, its connections'
        // ends came as edges, and the forwarder disposed those connections on another thread
        // while the loop was still handling the edges (the exception left the loop's thread).
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepting = listener.AcceptSocketAsync();
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var connection = await EpollConnection.ConnectAsync(socket, (IPEndPoint)listener.LocalEndpoint, MemoryPool<byte>.Shared, CancellationToken.None);
        using var peer = await accepting;
        socket.Dispose();

        connection.OnEvents(Native.EPOLLIN | Native.EPOLLRDHUP);

        var result = await connection.Transport.Input.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(result.IsCompleted);
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task Connect_NothingListening_IsConnectionRefused()
    {
        var closed = LoopbackServer.ClosedPort();
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        var e = await Assert.ThrowsAsync<SocketException>(async () =>
            await EpollConnection.ConnectAsync(socket, new IPEndPoint(IPAddress.Loopback, closed.Port), MemoryPool<byte>.Shared, CancellationToken.None));

        Assert.Equal(SocketError.ConnectionRefused, e.SocketErrorCode);
        Assert.True(socket.SafeHandle.IsClosed);
    }

    [Fact]
    public async Task ReadsOfOneTurn_EachGetItsOwnBytes_WhenTheCodeOfAnEarlierOneSendsWhatWaits()
    {
        if (!LoopRing.IsAvailable)
        {
            return; // Reads go one by one with recv: there is no batch.
        }
        // Five connections of one loop: one to hold the loop's thread while two others' bytes
        // arrive, so both are read in one batch through the ring; the first's code flushes to the
        // last two (deferred to the turn's end) and works past the 1 ms after which the loop sends
        // what waits before the next read is handed on — through the same ring, whose completions
        // once overwrote that next read's result with a send's byte count.
        var pairs = new List<(EpollConnection Connection, Socket Peer)>();
        try
        {
            List<(EpollConnection Connection, Socket Peer)> same = [];
            for (var i = 0; i < 40 && same.Count < 5; i++)
            {
                pairs.Add(await ConnectedPair.ConnectAsync());
                same = pairs.Where(p => p.Connection.LoopIndex == pairs[0].Connection.LoopIndex).ToList();
            }
            Assert.Equal(5, same.Count);
            var (holder, first, second, third, fourth) = (same[0], same[1], same[2], same[3], same[4]);
            using var holding = new ManualResetEventSlim();
            using var release = new ManualResetEventSlim();
            var held = HoldAsync();
            var firstDone = FirstAsync();
            var expected = string.Concat(Enumerable.Range(0, 50).Select(i => $"{i:D2}"));
            var secondRead = ReadAsync(second.Connection.Transport.Input, expected.Length);

            await holder.Peer.SendAsync("h"u8.ToArray());
            Assert.True(holding.Wait(TimeSpan.FromSeconds(10)), "the loop's thread held");
            await first.Peer.SendAsync("f"u8.ToArray());
            await second.Peer.SendAsync(Encoding.ASCII.GetBytes(expected));
            release.Set();
            await held;
            await firstDone;

            Assert.Equal(expected, await secondRead);
            var sent = new byte[4];
            Assert.Equal(4, await third.Peer.ReceiveAsync(sent).WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(4, await fourth.Peer.ReceiveAsync(sent).WaitAsync(TimeSpan.FromSeconds(10)));

            async Task HoldAsync()
            {
                var input = holder.Connection.Transport.Input;
                var result = await input.ReadAsync().ConfigureAwait(false);
                // On the loop's thread (the read continues inline): hold it.
                holding.Set();
                release.Wait(TimeSpan.FromSeconds(10));
                input.AdvanceTo(result.Buffer.End);
            }

            async Task FirstAsync()
            {
                var input = first.Connection.Transport.Input;
                var result = await input.ReadAsync().ConfigureAwait(false);
                input.AdvanceTo(result.Buffer.End);
                await third.Connection.Transport.Output.WriteAsync("sent"u8.ToArray()).ConfigureAwait(false);
                await fourth.Connection.Transport.Output.WriteAsync("sent"u8.ToArray()).ConfigureAwait(false);
                var clock = Stopwatch.StartNew();
                while (clock.Elapsed < TimeSpan.FromMilliseconds(3))
                {
                    // A piece of work longer than the loop lets flushed bytes wait.
                }
            }
        }
        finally
        {
            foreach (var (connection, peer) in pairs)
            {
                await connection.DisposeAsync();
                peer.Dispose();
            }
        }
    }

    private static async Task<string> ReadAsync(PipeReader input, int length)
    {
        while (true)
        {
            var result = await input.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            if (result.Buffer.Length >= length)
            {
                var text = System.Text.Encoding.ASCII.GetString(result.Buffer.Slice(0, length).ToArray());
                input.AdvanceTo(result.Buffer.GetPosition(length));
                return text;
            }
            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }
}
