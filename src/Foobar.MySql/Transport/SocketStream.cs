using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Foobar.MySql.Transport;

/// <summary>
/// A connected TCP socket as a stream, with its own asynchronous I/O: each asynchronous read or
/// write is first tried without blocking (<c>MSG_DONTWAIT</c>) — but for the first read after a
/// write that may wait briefly: its answer needs the server's round trip, so it goes straight to
/// the brief wait on its own thread (<see cref="BriefWait"/>); when the process is too busy for
/// that, it tries, yields its processor once if that pays (<see cref="YieldHandoff"/>) and tries
/// again; a read that would wait longer waits on <see cref="ReadinessLoop"/>. The socket never
/// enters the runtime's socket engine, so its synchronous calls stay plain blocking system calls
/// too. Linux only (<see cref="LibC.IsSupported"/>); elsewhere connections use <see cref="NetworkStream"/>.
/// </summary>
/// <remarks>
/// Measured in bench/mysql-client.sh: with the runtime's engine, <c>SELECT 1</c> one at a time ran
/// at half the rate of <c>mariadb-slap</c>, every answer waking the engine's thread and then a pool
/// thread that spun for more work. The read after a write skips its try when it may wait briefly
/// because a system call costs about 1.3 µs here and that try always answered <c>EAGAIN</c>: a
/// query then takes a <c>send</c> and one blocking <c>recv</c>, as in <c>mariadb-slap</c>. A read
/// that would wait on the loop tries first all the same: under load (32 clients on 2 cores) the
/// answer is often there by then, and skipping that try cost a quarter of the rate.
/// </remarks>
internal sealed class SocketStream : Stream
{
    private readonly Socket _socket;
    private readonly SafeSocketHandle _handle;
    private readonly ReadinessWaiter _waiter;
    private int _readTimeout = Timeout.Infinite;
    private int _receiveTimeout;
    /// <summary>Whether bytes were sent since the last read that returned some: the next read's answer is not there yet.</summary>
    private bool _answerPending;
    private YieldHandoff _handoff = new();
    /// <summary>Whether spinning before a brief wait pays on this connection (<see cref="BriefWait.SpinMicroseconds"/>).</summary>
    private Payoff _spin = new();
    /// <summary>
    /// Whether the brief wait itself pays on this connection: one its answer does not end blocks a
    /// pool thread for a tick of the kernel's clock (<see cref="BriefWait.Milliseconds"/>), so a
    /// connection whose queries take longer stops after four and only probes now and then. A miss
    /// costs one credit, not two as for a spin: a virtual machine stalled now and then for longer
    /// than a tick, and with two a connection on the same machine stopped its brief waits for
    /// stretches of 64 reads (<c>SELECT 1</c> at concurrency 1: a quarter slower in such runs).
    /// </summary>
    private Payoff _brief = new(penalty: 1);

    public SocketStream(Socket socket)
    {
        _socket = socket;
        _handle = socket.SafeHandle;
        _waiter = new ReadinessWaiter(_handle);
    }

    /// <summary>Whether a read or write waits on <see cref="ReadinessLoop"/> now (for tests).</summary>
    internal bool IsWaiting => _waiter.IsPending;

    /// <summary>Non-blocking reads that found nothing (each a system call for nothing; for tests and diagnostics).</summary>
    internal int EmptyTries { get; private set; }

    /// <summary>Spins before a brief wait (<see cref="BriefWait.SpinMicroseconds"/>; for tests and diagnostics).</summary>
    internal int Spins { get; private set; }

    /// <summary>Non-blocking <c>recv</c>s made while spinning (for tests and diagnostics).</summary>
    internal int SpinTries { get; private set; }

    /// <summary>Brief waits of asynchronous reads (<see cref="BriefWait"/>; for tests and diagnostics).</summary>
    internal int BriefWaits { get; private set; }

    /// <summary>
    /// Connects the (unconnected, blocking) socket without blocking a thread: <c>connect</c> on
    /// the descriptor made non-blocking for the call, then a wait for it to become writable; the
    /// descriptor is blocking again afterwards.
    /// </summary>
    /// <exception cref="SocketException">The connection was refused or failed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (the connect timeout).</exception>
    public async Task ConnectAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        var address = endPoint.Serialize();
        var handle = _handle;
        var flags = LibC.Fcntl(handle, LibC.F_GETFL, 0);
        if (flags < 0 || LibC.Fcntl(handle, LibC.F_SETFL, flags | LibC.O_NONBLOCK) < 0)
        {
            throw LibC.SocketError(Marshal.GetLastPInvokeError());
        }
        try
        {
            if (LibC.Connect(handle, ref address.Buffer.Span[0], address.Size) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno != LibC.EINPROGRESS)
                {
                    throw LibC.SocketError(errno);
                }
                // A fresh waiter has no stale wake-up: writable means the connect ended.
                await _waiter.WaitAsync(write: true, cancellationToken).ConfigureAwait(false);
                // The runtime gives SO_ERROR as a SocketError already.
                var error = (int)_socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
                if (error != 0)
                {
                    throw new SocketException(error);
                }
            }
        }
        finally
        {
            if (!handle.IsClosed)
            {
                LibC.Fcntl(handle, LibC.F_SETFL, flags);
            }
        }
    }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override bool CanTimeout => true;

    /// <summary>How long a synchronous read may block, in milliseconds (<see cref="Timeout.Infinite"/>, the default: for ever).</summary>
    public override int ReadTimeout
    {
        get => _readTimeout;
        set => _readTimeout = value > 0 || value == Timeout.Infinite ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "a positive number of milliseconds or Timeout.Infinite");
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <summary>One blocking <c>recv</c>, bounded by <see cref="ReadTimeout"/>.</summary>
    /// <remarks>
    /// <c>recv</c> itself rather than <see cref="Socket.Receive(Span{byte})"/>, which goes through
    /// <c>recvmsg</c> and a message header: about a tenth of the client's CPU in a profile of the
    /// synchronous <c>SELECT 1</c> benchmark.
    /// </remarks>
    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }
        // A synchronous read counts as waiting while it blocks, so that no other read spins then.
        var mayWaitBriefly = BriefWait.TryBegin();
        if (!mayWaitBriefly)
        {
            BriefWait.Begin();
            // A caller the pool's poller runs blocks here all the same: it gives the poll away now
            // rather than after the watchdog's two ticks.
            ReadinessLoop.LeavePoll();
        }
        try
        {
            if (mayWaitBriefly && TrySpin(buffer, out var received))
            {
                return received;
            }
            return ReceiveBlocking(buffer);
        }
        finally
        {
            BriefWait.End();
        }
    }

    private int ReceiveBlocking(Span<byte> buffer)
    {
        SetReceiveTimeout(_readTimeout == Timeout.Infinite ? 0 : _readTimeout);
        while (true)
        {
            var result = LibC.Receive(_handle, ref buffer[0], buffer.Length, 0);
            if (result >= 0)
            {
                return (int)result;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (errno != LibC.EINTR)
            {
                // A blocking socket answers EAGAIN when SO_RCVTIMEO ran out.
                var error = errno == LibC.EAGAIN ? new SocketException((int)SocketError.TimedOut) : LibC.SocketError(errno);
                throw new IOException($"Unable to read data from the transport connection: {error.Message}", error);
            }
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <summary>Blocking <c>send</c>s until all of <paramref name="buffer"/> went.</summary>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _answerPending = true;
        while (!buffer.IsEmpty)
        {
            var result = LibC.Send(_handle, ref MemoryMarshal.GetReference(buffer), buffer.Length, LibC.MSG_NOSIGNAL);
            if (result >= 0)
            {
                buffer = buffer[(int)result..];
                continue;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (errno != LibC.EINTR)
            {
                var error = LibC.SocketError(errno);
                throw new IOException($"Unable to write data to the transport connection: {error.Message}", error);
            }
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return new(0);
        }
        // Right after a write the answer needs the server's round trip: a try now would only say
        // EAGAIN, and the brief wait below finds an answer already there at once.
        var fresh = _answerPending;
        _answerPending = false;
        int received;
        if (!fresh && TryReceive(buffer.Span, out received))
        {
            return new(received);
        }
        if (_brief.ShouldTry() && BriefWait.TryBegin())
        {
            BriefWaits++;
            try
            {
                var answered = TrySpin(buffer.Span, out received) || TryReceiveWithin(BriefWait.Milliseconds, buffer.Span, out received);
                _brief.Record(answered);
                if (answered)
                {
                    return new(received);
                }
            }
            finally
            {
                BriefWait.End();
            }
        }
        else if (fresh && BriefWait.MaySpinOnLoop() && TrySpin(buffer.Span, out received, onLoop: true))
        {
            // Its caller may be an event loop, which never blocks, but a spin while nothing else
            // waits costs the loop nothing.
            return new(received);
        }
        else if (fresh && (TryReceive(buffer.Span, out received) || TryReceiveAfterYield(buffer.Span, out received)))
        {
            // About to wait on the loop (an epoll_ctl, a wake-up, a hop): on a busy machine the
            // answer has often come meanwhile, or comes while this thread steps aside, so it is
            // worth the tries after all.
            return new(received);
        }
        return ReadWaitingAsync(buffer, cancellationToken);
    }

    /// <summary>
    /// Non-blocking <c>recv</c>s for up to <see cref="BriefWait.SpinMicroseconds"/>, while that pays
    /// on this connection: false when nothing came (or the connection does not spin now). With
    /// <paramref name="onLoop"/> (the caller may be an event loop) it stops as soon as another read
    /// waits on the loop, and such a stop costs the connection no credit: the answer was not late.
    /// </summary>
    internal bool TryReceiveSpinning(Span<byte> buffer, out int received, bool onLoop = false)
    {
        received = 0;
        if (!_spin.ShouldTry())
        {
            return false;
        }
        Spins++;
        var until = Stopwatch.GetTimestamp() + SpinTicks;
        do
        {
            SpinTries++;
            if (TryReceiveNow(buffer, out received))
            {
                _spin.Record(paid: true);
                return true;
            }
            if (onLoop && ReadinessLoop.Waiting > 0)
            {
                return false;
            }
        }
        while (Stopwatch.GetTimestamp() < until);
        _spin.Record(paid: false);
        return false;
    }

    /// <summary><see cref="TryReceiveSpinning"/> unless as many reads spin already as <see cref="BriefWait.SpinLimit"/>.</summary>
    private bool TrySpin(Span<byte> buffer, out int received, bool onLoop = false)
    {
        received = 0;
        if (!BriefWait.TryBeginSpin())
        {
            return false;
        }
        try
        {
            return TryReceiveSpinning(buffer, out received, onLoop);
        }
        finally
        {
            BriefWait.EndSpin();
        }
    }

    private static readonly long SpinTicks = Stopwatch.Frequency * BriefWait.SpinMicroseconds / 1_000_000;

    /// <summary>
    /// One blocking <c>recv</c> bounded by <c>SO_RCVTIMEO</c> (kept set between calls, so a
    /// connection that only reads asynchronously pays one <c>setsockopt</c> in all): false when
    /// nothing came in time.
    /// </summary>
    private bool TryReceiveWithin(int milliseconds, Span<byte> buffer, out int received)
    {
        SetReceiveTimeout(milliseconds);
        var result = LibC.Receive(_handle, ref buffer[0], buffer.Length, 0);
        if (result >= 0)
        {
            received = (int)result;
            return true;
        }
        var errno = Marshal.GetLastPInvokeError();
        received = 0;
        return errno is LibC.EAGAIN or LibC.EINTR ? false : throw new IOException("Unable to read data from the transport connection.", LibC.SocketError(errno));
    }

    private void SetReceiveTimeout(int milliseconds)
    {
        if (_receiveTimeout != milliseconds)
        {
            _socket.ReceiveTimeout = milliseconds;
            _receiveTimeout = milliseconds;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadWaitingAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            await _waiter.WaitAsync(write: false, cancellationToken).ConfigureAwait(false);
            if (TryReceive(buffer.Span, out var received))
            {
                return received;
            }
        }
    }

    /// <summary>
    /// After a command whose answer is not there yet: gives the processor away once, when that has
    /// been paying on this connection (<see cref="YieldHandoff"/>), and tries again.
    /// </summary>
    private bool TryReceiveAfterYield(Span<byte> buffer, out int received)
    {
        received = 0;
        if (!_handoff.ShouldYield())
        {
            return false;
        }
        ReadinessLoop.LeavePoll();
        LibC.SchedYield();
        var answered = TryReceive(buffer, out received);
        _handoff.Record(answered);
        return answered;
    }

    /// <summary>One non-blocking <c>recv</c>: false when nothing is there yet (counted in <see cref="EmptyTries"/>).</summary>
    private bool TryReceive(Span<byte> buffer, out int received)
    {
        if (TryReceiveNow(buffer, out received))
        {
            return true;
        }
        EmptyTries++;
        return false;
    }

    private bool TryReceiveNow(Span<byte> buffer, out int received)
    {
        while (true)
        {
            var result = LibC.Receive(_handle, ref buffer[0], buffer.Length, LibC.MSG_DONTWAIT);
            if (result >= 0)
            {
                received = (int)result;
                return true;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (errno == LibC.EAGAIN)
            {
                received = 0;
                return false;
            }
            if (errno != LibC.EINTR)
            {
                throw new IOException("Unable to read data from the transport connection.", LibC.SocketError(errno));
            }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _answerPending = true;
        var sent = TrySend(buffer.Span);
        return sent == buffer.Length ? ValueTask.CompletedTask : WriteWaitingAsync(buffer[sent..], cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteWaitingAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        while (!buffer.IsEmpty)
        {
            await _waiter.WaitAsync(write: true, cancellationToken).ConfigureAwait(false);
            buffer = buffer[TrySend(buffer.Span)..];
        }
    }

    /// <summary>Non-blocking <c>send</c>s until the socket buffer is full: how many bytes went.</summary>
    private int TrySend(ReadOnlySpan<byte> buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var rest = buffer[total..];
            var result = LibC.Send(_handle, ref MemoryMarshal.GetReference(rest), rest.Length, LibC.MSG_DONTWAIT | LibC.MSG_NOSIGNAL);
            if (result >= 0)
            {
                total += (int)result;
                continue;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (errno == LibC.EAGAIN)
            {
                break;
            }
            if (errno != LibC.EINTR)
            {
                throw new IOException("Unable to write data to the transport connection.", LibC.SocketError(errno));
            }
        }
        return total;
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _waiter.Dispose();
            _socket.Dispose();
        }
        base.Dispose(disposing);
    }
}
