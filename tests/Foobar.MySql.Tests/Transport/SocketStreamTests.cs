using System.Net;
using System.Net.Sockets;
using Foobar.MySql.Transport;
using Foobar.Testing;

namespace Foobar.MySql.Tests.Transport;

/// <summary>The connection's own socket I/O against a real loopback peer: waits on the readiness loop, cancellation, closing, timeouts.</summary>
public sealed class SocketStreamTests : IAsyncDisposable
{
    private readonly LoopbackPeers _peers = new();

    private Task<(SocketStream Stream, Socket Peer)> ConnectAsync() => _peers.ConnectAsync();

    [Fact]
    public async Task Read_WaitingOnTheLoop_CompletesWhenThePeerWrites()
    {
        var (stream, peer) = await ConnectAsync();
        using var _ = stream;
        using var __ = peer;
        var buffer = new byte[16];

        var read = stream.ReadAsync(buffer).AsTask();
        await Eventually.TrueAsync(() => stream.IsWaiting, "the read waiting on the readiness loop");
        Assert.False(read.IsCompleted);
        peer.Send("hello"u8);

        Assert.Equal(5, await read);
        Assert.Equal("hello"u8.ToArray(), buffer[..5]);
        Assert.False(stream.IsWaiting);
    }

    [Fact]
    public async Task Read_AfterAWrite_FindsTheAnswer_WhetherItComesLaterOrIsThereAlready()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var (stream, peer) = await _peers.ConnectAsync(socket);
        using var _ = stream;
        using var __ = peer;
        var buffer = new byte[16];

        // The answer comes after the read began waiting.
        await stream.WriteAsync("ping"u8.ToArray());
        var read = stream.ReadAsync(buffer).AsTask();
        var request = new byte[4];
        Assert.Equal(4, peer.Receive(request));
        peer.Send("pong"u8);
        Assert.Equal(4, await read.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("pong"u8.ToArray(), buffer[..4]);

        // The answer is there before the read (the peer was quick): the wait finds it at once.
        await stream.WriteAsync("ping"u8.ToArray());
        Assert.Equal(4, peer.Receive(request));
        peer.Send("again"u8);
        await Eventually.TrueAsync(() => socket.Available == 5, "the answer in our socket's buffer");
        Assert.Equal(5, await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("again"u8.ToArray(), buffer[..5]);
        // Whether these reads tried first depends on whether they could wait briefly (BriefWait,
        // shared by the whole process's connections): the answer counts here, the rate in bench/.
    }

    [Fact]
    public async Task Read_WithNoWriteBefore_TriesFirst()
    {
        var (stream, peer) = await ConnectAsync();
        using var _ = stream;
        using var __ = peer;
        var buffer = new byte[16];

        var read = stream.ReadAsync(buffer).AsTask();
        await Eventually.TrueAsync(() => stream.IsWaiting, "the read waiting on the readiness loop");
        peer.Send("one"u8);
        Assert.Equal(3, await read.WaitAsync(TimeSpan.FromSeconds(10)));

        // A second read of the same answer (a result set in several reads) tries without waiting first.
        var second = stream.ReadAsync(buffer).AsTask();
        await Eventually.TrueAsync(() => stream.IsWaiting, "the second read waiting");
        peer.Send("two"u8);
        Assert.Equal(3, await second.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(2, stream.EmptyTries);
    }

    [Fact]
    public async Task Read_WaitingLongerThanAPollerTurn_StillCompletes()
    {
        var (stream, peer) = await ConnectAsync();
        using var _ = stream;
        using var __ = peer;
        var buffer = new byte[16];

        var read = stream.ReadAsync(buffer).AsTask();
        await Eventually.TrueAsync(() => stream.IsWaiting, "the read waiting on the readiness loop");
        // The scenario, not a synchronisation: several of the pool poller's turns (50 ms) end
        // without an event, and each must queue the next while the read still waits.
        await Task.Delay(300);
        Assert.False(read.IsCompleted);
        peer.Send("late"u8);

        Assert.Equal(4, await read.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task ManyReadsWaitingAtOnce_EachGetsItsOwnPeersBytes_WhateverTheOrder()
    {
        var pairs = new List<(SocketStream Stream, Socket Peer)>();
        for (var i = 0; i < 40; i++)
        {
            pairs.Add(await ConnectAsync());
        }
        try
        {
            var buffers = pairs.Select(_ => new byte[16]).ToArray();
            var reads = pairs.Select((pair, i) => pair.Stream.ReadAsync(buffers[i]).AsTask()).ToArray();
            await Eventually.TrueAsync(() => pairs.All(pair => pair.Stream.IsWaiting), "every read waiting on the readiness loop");

            for (var i = pairs.Count - 1; i >= 0; i--)
            {
                pairs[i].Peer.Send(BitConverter.GetBytes(i));
            }

            var counts = await Task.WhenAll(reads).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.All(counts, count => Assert.Equal(4, count));
            Assert.Equal(Enumerable.Range(0, pairs.Count), buffers.Select(buffer => BitConverter.ToInt32(buffer)));
        }
        finally
        {
            foreach (var (stream, peer) in pairs)
            {
                stream.Dispose();
                peer.Dispose();
            }
        }
    }

    [Fact]
    public async Task Continuation_BlockingOnAnotherReadsAnswer_GetsIt_ThePollPassesToAnotherThread()
    {
        if (ReadinessLoop.InlineCompletions)
        {
            return; // Code after an await must not block then (the loop's thread would be blocked).
        }
        var (first, firstPeer) = await ConnectAsync();
        var (second, secondPeer) = await ConnectAsync();
        using var _ = first;
        using var __ = firstPeer;
        using var ___ = second;
        using var ____ = secondPeer;
        Task<int>? secondRead = null;

        // The first read's caller continues on the thread that saw its answer, the pool's poller,
        // and blocks there on the second read, whose answer only a poller can see.
        var both = ReadThenBlockAsync();
        await Eventually.TrueAsync(() => first.IsWaiting, "the first read waiting on the readiness loop");
        firstPeer.Send("1"u8);
        await Eventually.TrueAsync(() => Volatile.Read(ref secondRead) is not null && second.IsWaiting, "the second read waiting, its caller blocked");
        secondPeer.Send("22"u8);

        Assert.Equal(3, await both.WaitAsync(TimeSpan.FromSeconds(10)));

        async Task<int> ReadThenBlockAsync()
        {
            var firstCount = await first.ReadAsync(new byte[16]);
            var read = second.ReadAsync(new byte[16]).AsTask();
            Volatile.Write(ref secondRead, read);
            return firstCount + read.GetAwaiter().GetResult();
        }
    }

    [Fact]
    public async Task PollersContinuation_AboutToYieldForItsNextAnswer_InABusyProcess_LeavesThePollFirst()
    {
        if (ReadinessLoop.InlineCompletions)
        {
            return; // No pool poller then: callers continue on the loops' own threads.
        }
        var (stream, peer) = await ConnectAsync();
        using var _ = stream;
        using var __ = peer;

        // As many reads as processors wait (BusyProcess): the process is busy, so the read after
        // the command may not wait briefly; it yields its processor (a fresh connection has credit)
        // and must give the poll away before it does.
        var observed = ReadThenCommandAsync();
        await Eventually.TrueAsync(() => stream.IsWaiting, "the read waiting on the readiness loop");
        peer.Send("1"u8);
        var (onPoller, mayWaitBriefly, stillOnPoller, answer) = await observed.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(onPoller, "the caller continued on the poller");
        Assert.False(mayWaitBriefly, "no brief wait in a busy process");
        Assert.False(stillOnPoller, "the yielding read left the poll to another thread");
        peer.Send("22"u8);
        Assert.Equal(2, await answer.WaitAsync(TimeSpan.FromSeconds(10)));

        async Task<(bool, bool, bool, Task<int>)> ReadThenCommandAsync()
        {
            await stream.ReadAsync(new byte[16]).ConfigureAwait(false);
            var onPoller = ReadinessLoop.ContinuingForPoller;
            using var busy = new BusyProcess();
            var briefly = BriefWait.TryBegin();
            if (briefly)
            {
                BriefWait.End();
            }
            await stream.WriteAsync("next"u8.ToArray()).ConfigureAwait(false);
            var answer = stream.ReadAsync(new byte[16]).AsTask();
            return (onPoller, briefly, ReadinessLoop.ContinuingForPoller, answer);
        }
    }

    [Fact]
    public async Task PollersCaller_ReadingSynchronouslyInABusyProcess_LeavesThePollBeforeItBlocks()
    {
        if (ReadinessLoop.InlineCompletions)
        {
            return; // No pool poller then: callers continue on the loops' own threads.
        }
        var (stream, peer) = await ConnectAsync();
        var (other, otherPeer) = await ConnectAsync();
        using var _ = stream;
        using var __ = peer;
        using var ___ = other;
        using var ____ = otherPeer;
        otherPeer.Send("22"u8);

        // The caller continues on the poller, then reads another connection synchronously in a busy
        // process (BusyProcess): no brief wait, a plain
        // blocking recv. It gives the poll away first, not after the watchdog's two ticks (the
        // watchdog would leave this thread still marked as the poller's).
        var observed = ReadThenReadSynchronouslyAsync();
        await Eventually.TrueAsync(() => stream.IsWaiting, "the read waiting on the readiness loop");
        peer.Send("1"u8);
        var (onPoller, got, stillOnPoller) = await observed.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(onPoller, "the caller continued on the poller");
        Assert.Equal(2, got);
        Assert.False(stillOnPoller, "the blocking read left the poll to another thread");

        async Task<(bool, int, bool)> ReadThenReadSynchronouslyAsync()
        {
            await stream.ReadAsync(new byte[16]).ConfigureAwait(false);
            var onPoller = ReadinessLoop.ContinuingForPoller;
            using var busy = new BusyProcess();
            var got = other.Read(new byte[16]);
            return (onPoller, got, ReadinessLoop.ContinuingForPoller);
        }
    }

    [Fact]
    public async Task Read_Cancelled_ThrowsAndTheStreamStaysUsable()
    {
        var (stream, peer) = await ConnectAsync();
        using var _ = stream;
        using var __ = peer;
        var buffer = new byte[16];
        using var cancel = new CancellationTokenSource();

        var read = stream.ReadAsync(buffer, cancel.Token).AsTask();
        await Eventually.TrueAsync(() => stream.IsWaiting, "the read waiting on the readiness loop");
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
        peer.Send("after"u8);
        Assert.Equal(5, await stream.ReadAsync(buffer));
        Assert.Equal("after"u8.ToArray(), buffer[..5]);
    }

    [Fact]
    public async Task Dispose_WhileAReadWaits_FailsTheRead_NeverHangs()
    {
        var (stream, peer) = await ConnectAsync();
        using var __ = peer;

        var read = stream.ReadAsync(new byte[16]).AsTask();
        await Eventually.TrueAsync(() => stream.IsWaiting, "the read waiting on the readiness loop");
        stream.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => read.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task PeerCloses_ReadReturnsZero()
    {
        var (stream, peer) = await ConnectAsync();
        using var _ = stream;

        var read = stream.ReadAsync(new byte[16]).AsTask();
        peer.Shutdown(SocketShutdown.Send);
        peer.Dispose();

        Assert.Equal(0, await read);
    }

    [Fact]
    public async Task PeerResets_ReadThrowsIOExceptionWithConnectionReset()
    {
        var (stream, peer) = await ConnectAsync();
        using var _ = stream;
        // Unread data at close makes Linux send a reset instead of a FIN.
        stream.Write("unread"u8);
        await Eventually.TrueAsync(() => peer.Available > 0, "the peer receiving the bytes");
        peer.Dispose();

        var e = await Assert.ThrowsAsync<IOException>(async () =>
        {
            while (await stream.ReadAsync(new byte[16]) > 0)
            {
            }
        });
        Assert.Equal(SocketError.ConnectionReset, Assert.IsType<SocketException>(e.InnerException).SocketErrorCode);
    }

    [Fact]
    public async Task Write_LargerThanTheSocketBuffers_WaitsForThePeerAndArrivesWhole()
    {
        var (stream, peer) = await ConnectAsync();
        using var _ = stream;
        using var __ = peer;
        var data = new byte[16 << 20];
        new Random(7).NextBytes(data);

        var write = stream.WriteAsync(data).AsTask();
        await Eventually.TrueAsync(() => stream.IsWaiting, "the write waiting for the peer to read");
        var received = new MemoryStream();
        var buffer = new byte[1 << 16];
        while (received.Length < data.Length)
        {
            received.Write(buffer, 0, await peer.ReceiveAsync(buffer));
        }

        await write;
        Assert.Equal(data, received.ToArray());
    }

    [Fact]
    public async Task Connect_NothingListening_IsConnectionRefused()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var endPoint = (IPEndPoint)probe.LocalEndpoint;
        probe.Stop();
        using var stream = new SocketStream(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));

        var e = await Assert.ThrowsAsync<SocketException>(() => stream.ConnectAsync(endPoint, CancellationToken.None));

        Assert.Equal(SocketError.ConnectionRefused, e.SocketErrorCode);
    }

    [Fact]
    public async Task SynchronousRead_AfterAsynchronousReads_BlocksUntilDataNotForTheBriefWait()
    {
        var (stream, peer) = await ConnectAsync();
        using var _ = stream;
        using var __ = peer;
        var buffer = new byte[16];
        peer.Send("a"u8);
        Assert.Equal(1, await stream.ReadAsync(buffer));
        var read = stream.ReadAsync(buffer).AsTask();
        peer.Send("b"u8);
        Assert.Equal(1, await read);

        // The brief wait leaves a receive timeout of one clock tick on the socket; a blocking read
        // for ever must not inherit it. The peer answers well after that tick.
        var blocking = Task.Run(() => stream.Read(buffer));
        await Task.Delay(200);
        peer.Send("c"u8);

        Assert.Equal(1, await blocking);
        Assert.Equal((byte)'c', buffer[0]);
    }

    [Fact]
    public async Task Spinning_CatchesAnAnswerAlreadyThere_AndStopsWhereItRunsOut_ButForAProbeNowAndThen()
    {
        var (stream, peer) = await ConnectAsync();
        using var _ = stream;
        using var __ = peer;
        var buffer = new byte[16];
        peer.Send("pong"u8);
        // A loopback send is in our socket's buffer when it returns; the spin would wait 50 µs more.
        // One call, not a poll: a spin that ran out would cost credit and shift the counts below.
        Assert.True(stream.TryReceiveSpinning(buffer, out var got), "the answer caught by a spin");
        Assert.Equal(4, got);
        var caught = stream.Spins;

        // Nothing comes: a fresh connection's credit (4, +1 for each answer caught) lasts three
        // spins that run out (2 each), then it spins only once in 64 reads.
        for (var i = 0; i < 3 + 63; i++)
        {
            Assert.False(stream.TryReceiveSpinning(buffer, out var _));
        }
        Assert.Equal(caught + 3, stream.Spins);
        Assert.False(stream.TryReceiveSpinning(buffer, out var _));
        Assert.Equal(caught + 4, stream.Spins);

        // A probe the answer follows starts it spinning again.
        for (var i = 0; i < 63; i++)
        {
            Assert.False(stream.TryReceiveSpinning(buffer, out var _));
        }
        peer.Send("late"u8);
        Assert.True(stream.TryReceiveSpinning(buffer, out got), "the probe's answer");
        Assert.Equal(4, got);
        Assert.Equal(caught + 5, stream.Spins);
        Assert.False(stream.TryReceiveSpinning(buffer, out var _));
        Assert.Equal(caught + 6, stream.Spins);
    }

    [Fact]
    public async Task SynchronousRead_CountsAsWaitingWhileItBlocks_SoNoOtherReadSpinsMeanwhile()
    {
        var (stream, peer) = await ConnectAsync();
        using var _ = stream;
        using var __ = peer;
        var buffer = new byte[16];
        var before = BriefWait.Waiting;

        // 32 synchronous clients on 2 processors: spinning while others wait would take a processor
        // from the server. Other tests' reads may come and go meanwhile; this one stays blocked.
        var blocking = Task.Run(() => stream.Read(buffer));
        await Eventually.TrueAsync(() => BriefWait.Waiting > before, "the blocked read counted as waiting");
        peer.Send("c"u8);

        Assert.Equal(1, await blocking.WaitAsync(TimeSpan.FromSeconds(10)));
        await Eventually.TrueAsync(() => BriefWait.Waiting <= before, "the read no longer counted once answered");
    }

    [Fact]
    public async Task SynchronousRead_WithAReadTimeout_TimesOut()
    {
        var (stream, peer) = await ConnectAsync();
        using var _ = stream;
        using var __ = peer;
        stream.ReadTimeout = 100;

        var e = Assert.Throws<IOException>(() => stream.Read(new byte[16]));

        Assert.IsType<SocketException>(e.InnerException);
    }

    [Fact]
    public async Task Abandoned_AfterWaitingOnTheLoop_IsCollectedAndItsSocketClosed()
    {
        var (peer, handle) = await UseThenAbandonAsync();
        using var _ = peer;

        await Eventually.TrueAsync(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            // Nothing of the stream stays rooted by the loop once no wait is armed.
            return !handle.IsAlive;
        }, "the abandoned stream's socket handle collected");
        // Our end is closed: the peer's socket reads the end of the stream (or a reset).
        Assert.True(peer.Poll(TimeSpan.FromSeconds(10), SelectMode.SelectRead));
        var end = Record.Exception(() => Assert.Equal(0, peer.Receive(new byte[1])));
        Assert.True(end is null or SocketException { SocketErrorCode: SocketError.ConnectionReset }, end?.ToString());
    }

    /// <summary>A stream that waited on the loop once and then is dropped without Dispose (a caller's leak): the peer, and its socket handle weakly.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private async Task<(Socket Peer, WeakReference Handle)> UseThenAbandonAsync()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var handle = new WeakReference(socket.SafeHandle);
        var (stream, peer) = await _peers.ConnectAsync(socket);
        var read = stream.ReadAsync(new byte[16]).AsTask();
        await Eventually.TrueAsync(() => stream.IsWaiting, "the read waiting on the readiness loop");
        peer.Send("x"u8);
        Assert.Equal(1, await read);
        return (peer, handle);
    }

    public ValueTask DisposeAsync()
    {
        _peers.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Counts as many reads waiting as there are processors until disposed: the process is busy,
    /// so no read may wait briefly (whatever other tests' reads do meanwhile).
    /// </summary>
    private sealed class BusyProcess : IDisposable
    {
        public BusyProcess()
        {
            for (var i = 0; i < BriefWait.Limit; i++)
            {
                BriefWait.Begin();
            }
        }

        public void Dispose()
        {
            for (var i = 0; i < BriefWait.Limit; i++)
            {
                BriefWait.End();
            }
        }
    }
}
