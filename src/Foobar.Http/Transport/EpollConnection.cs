using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Foobar.Http.Transport;

/// <summary>
/// A TCP connection on an <see cref="EpollLoop"/>, as Kestrel's <see cref="ConnectionContext"/>:
/// bytes received go into <c>Transport.Input</c>, bytes written to <c>Transport.Output</c> are
/// sent. It reads only when epoll said there is something (edge-triggered, until a short read:
/// one <c>recv</c> per arrival, as nginx does) straight into the connection's blocks
/// (<see cref="SocketInput"/>), and a waiting read continues inline, so a request is parsed and
/// answered on the loop's thread; the output, <see cref="SocketOutput"/>, sends on the thread that
/// flushes. Neither side is a pipe: no pipe locks, no scheduling between socket and application.
/// </summary>
internal sealed class EpollConnection : ConnectionContext, IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature, IConnectionLifetimeFeature, IMemoryPoolFeature
{
    /// <summary>
    /// How long closing waits for unsent bytes to go (Kestrel aborts slow readers itself; a
    /// backend connection closed after a failure has no one else to).
    /// </summary>
    private static readonly TimeSpan SendOnDisposeTimeout = TimeSpan.FromSeconds(5);

    private static long s_ids;

    private readonly Socket _socket;
    private readonly SafeSocketHandle _handle;
    private readonly SocketInput _input;
    private readonly SocketOutput _output;
    private readonly CancellationTokenSource _closed = new();
    private EpollLoop? _loop;
    private TaskCompletionSource? _connecting;
    private int _readLock;
    private int _readRequested;
    private int _mustDrain;
    private int _inputDone;
    private int _disposed;

    private EpollConnection(Socket socket, MemoryPool<byte> pool)
    {
        _socket = socket;
        _handle = socket.SafeHandle;
        MemoryPool = pool;
        _input = new SocketInput(pool, Resume);
        _output = new SocketOutput(_handle, pool, e => EndInput(e));
        Transport = new DuplexPipe(_input, _output);
        ConnectionId = "E" + Interlocked.Increment(ref s_ids).ToString("X");
        Features.Set<IConnectionIdFeature>(this);
        Features.Set<IConnectionTransportFeature>(this);
        Features.Set<IConnectionItemsFeature>(this);
        Features.Set<IConnectionLifetimeFeature>(this);
        Features.Set<IMemoryPoolFeature>(this);
    }

    /// <summary>Takes over an accepted <paramref name="socket"/> (never used asynchronously through the runtime, which would register it with its own engine).</summary>
    public static EpollConnection Accepted(Socket socket, MemoryPool<byte> pool)
    {
        var connection = new EpollConnection(socket, pool)
        {
            LocalEndPoint = socket.LocalEndPoint,
            RemoteEndPoint = socket.RemoteEndPoint,
        };
        connection.Start();
        return connection;
    }

    /// <summary>Connects <paramref name="socket"/> (bound or not, not connected) to <paramref name="endPoint"/> without blocking a thread.</summary>
    /// <exception cref="SocketException">Refused, unreachable.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (the caller's connect timeout); the socket is closed.</exception>
    public static async ValueTask<EpollConnection> ConnectAsync(Socket socket, IPEndPoint endPoint, MemoryPool<byte> pool, CancellationToken cancellationToken)
    {
        var connection = new EpollConnection(socket, pool) { RemoteEndPoint = endPoint };
        try
        {
            socket.Blocking = false;
            TaskCompletionSource? connecting = null;
            try
            {
                socket.Connect(endPoint);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
            {
                connecting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                connection._connecting = connecting;
            }
            // On the caller's loop when it runs on one: a request forwarded from a client
            // connection then stays on that connection's thread, as in an nginx worker.
            connection.Register(EpollLoop.Current ?? EpollLoop.Next());
            // The loop may have ended the wait (and cleared the field) already: the local decides.
            if (connecting is not null)
            {
                await connecting.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                var error = (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
                if (error != 0)
                {
                    throw new SocketException(error);
                }
            }
            connection.LocalEndPoint = socket.LocalEndPoint;
            connection.RequestRead();
            return connection;
        }
        catch
        {
            connection._loop?.Remove(connection.Key);
            socket.Dispose();
            throw;
        }
    }

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    public override IDuplexPipe Transport { get; set; }

    public override CancellationToken ConnectionClosed { get => _closed.Token; set => throw new NotSupportedException(); }

    public MemoryPool<byte> MemoryPool { get; }

    private void Start() => Register(EpollLoop.Next());

    private void Register(EpollLoop loop)
    {
        _loop = loop;
        _output.Loop = loop;
        _loop.Add(this, _handle);
    }

    /// <summary>Its key on its loop (<see cref="EpollLoop.Add"/>): which events are its.</summary>
    public long Key { get; set; }

    /// <summary>The number of the loop this connection's events are handled on (<see cref="EpollLoop.Index"/>).</summary>
    public int LoopIndex => _loop!.Index;

    /// <summary>From the loop's thread: what epoll reported for this socket.</summary>
    public void OnEvents(uint flags)
    {
        if (HandleEvents(flags))
        {
            RequestRead();
        }
    }

    /// <summary>
    /// From the loop's thread: what epoll reported for this socket, but for the reading; true when
    /// a read is due, which the loop makes with the turn's other reads (<see cref="TryBeginRingRead"/>).
    /// </summary>
    public bool HandleEvents(uint flags)
    {
        try
        {
            const uint failed = Native.EPOLLERR | Native.EPOLLHUP;
            if (Volatile.Read(ref _connecting) is { } connecting)
            {
                // The connect ended. No read now: a recv would take the socket's error, which
                // ConnectAsync reads as SO_ERROR; it starts reading itself once connected.
                if ((flags & (Native.EPOLLOUT | failed)) != 0)
                {
                    Volatile.Write(ref _connecting, null);
                    connecting.TrySetResult();
                }
                return false;
            }
            if ((flags & (Native.EPOLLOUT | failed)) != 0)
            {
                _output.OnWritable();
            }
            if ((flags & (Native.EPOLLIN | Native.EPOLLRDHUP | failed)) != 0)
            {
                if ((flags & (Native.EPOLLRDHUP | failed)) != 0)
                {
                    // The end (or an error) came with this edge: no further edge will say so, so
                    // read until the socket has nothing left, not only until a short read.
                    Volatile.Write(ref _mustDrain, 1);
                }
                return true;
            }
        }
        catch (Exception e)
        {
            // Never let a connection's trouble end the loop's thread.
            EndInput(e as ObjectDisposedException is null ? new ConnectionResetException(e.Message, e) : null);
        }
        return false;
    }

    /// <summary>
    /// From the loop's thread: takes the right to read (as <see cref="RequestRead"/> does) and the
    /// input's room to receive into, for one <c>recv</c> on the loop's ring; false when there is
    /// nothing to do now (the application is behind, the input ended, or another thread reads and
    /// will read again). <see cref="EndRingRead"/> must follow a true.
    /// </summary>
    internal bool TryBeginRingRead(out Memory<byte> memory, out bool drain, out int socket)
    {
        Volatile.Write(ref _readRequested, 1);
        memory = default;
        drain = false;
        socket = -1;
        if (_input.IsPaused || Volatile.Read(ref _inputDone) == 1 || Interlocked.CompareExchange(ref _readLock, 1, 0) != 0)
        {
            return false;
        }
        Volatile.Write(ref _readRequested, 0);
        try
        {
            // Kept open until EndRingRead, even if another thread disposes the connection meanwhile.
            var added = false;
            _handle.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            Volatile.Write(ref _readLock, 0);
            return false;
        }
        drain = Interlocked.Exchange(ref _mustDrain, 0) == 1;
        socket = (int)_handle.DangerousGetHandle();
        memory = _input.GetReceiveMemory();
        return true;
    }

    /// <summary>
    /// The <c>recv</c> begun by <see cref="TryBeginRingRead"/> ended with <paramref name="result"/>
    /// (bytes, 0 at the end, or −errno) into <paramref name="length"/> bytes of room: the input
    /// gets them (a waiting read continues on this thread), and what may be left is read with
    /// <c>recv</c> as after any edge.
    /// </summary>
    internal void EndRingRead(int result, int length, bool drain)
    {
        try
        {
            _handle.DangerousRelease();
            var outcome = _input.Received(result > 0 ? result : 0);
            if (result > 0)
            {
                if (outcome == SocketInput.ReceiveOutcome.Stop)
                {
                    EndInput(null);
                }
                else if (outcome == SocketInput.ReceiveOutcome.Continue && (result == length || drain))
                {
                    ReadAvailable(drain);
                }
            }
            else if (result == 0)
            {
                EndInput(null);
            }
            else if (result == -Native.EINTR)
            {
                // Nothing was read and no other edge will come for what waits: read again below.
                Volatile.Write(ref _readRequested, 1);
            }
            else if (result != -Native.EAGAIN)
            {
                EndInput(new ConnectionResetException(Marshal.GetPInvokeErrorMessage(-result)));
            }
        }
        catch (Exception e)
        {
            EndInput(e as ObjectDisposedException is null ? new ConnectionResetException(e.Message, e) : null);
        }
        finally
        {
            Volatile.Write(ref _readLock, 0);
        }
        // Asked again meanwhile (the application resumed reading, another edge): read as usual.
        if (Volatile.Read(ref _readRequested) == 1)
        {
            RequestRead();
        }
    }

    /// <summary>
    /// Reads now, or makes whoever is reading read again; never two readers at once, never while
    /// the application is behind. Never throws: it runs on the loop's thread (an edge) and in the
    /// application's (a resumed read), and another thread may dispose the connection meanwhile —
    /// the socket then reads as ended. The loop calls it for a read that its ring did not make.
    /// </summary>
    internal void RequestRead()
    {
        try
        {
            Volatile.Write(ref _readRequested, 1);
            while (Volatile.Read(ref _readRequested) == 1 && !_input.IsPaused && Interlocked.CompareExchange(ref _readLock, 1, 0) == 0)
            {
                try
                {
                    while (!_input.IsPaused && Interlocked.Exchange(ref _readRequested, 0) == 1)
                    {
                        ReadAvailable(Interlocked.Exchange(ref _mustDrain, 0) == 1);
                    }
                }
                finally
                {
                    Volatile.Write(ref _readLock, 0);
                }
            }
        }
        catch (Exception e)
        {
            EndInput(e as ObjectDisposedException is null ? new ConnectionResetException(e.Message, e) : null);
        }
    }

    /// <summary>Receives into the input until a short read (or, when <paramref name="drain"/>, until the socket would block); a waiting reader continues as bytes come.</summary>
    private unsafe void ReadAvailable(bool drain)
    {
        if (Volatile.Read(ref _inputDone) == 1)
        {
            return;
        }
        while (true)
        {
            var memory = _input.GetReceiveMemory();
            nint received;
            fixed (byte* p = memory.Span)
            {
                received = Native.Receive(_handle, p, memory.Length, Native.MSG_DONTWAIT);
            }
            var outcome = _input.Received(received > 0 ? (int)received : 0);
            if (received > 0)
            {
                if (outcome == SocketInput.ReceiveOutcome.Pause)
                {
                    // The application is behind: stop reading until it catches up (Resume).
                    return;
                }
                if (outcome == SocketInput.ReceiveOutcome.Stop)
                {
                    EndInput(null);
                    return;
                }
                if (received < memory.Length && !drain)
                {
                    return;
                }
                continue;
            }
            if (received == 0)
            {
                EndInput(null);
                return;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (errno == Native.EAGAIN)
            {
                return;
            }
            if (errno != Native.EINTR)
            {
                EndInput(new ConnectionResetException(Marshal.GetPInvokeErrorMessage(errno)));
                return;
            }
        }
    }

    /// <summary>From the input: the application caught up after a pause.</summary>
    private void Resume()
    {
        // Edges that came while paused were not acted on: read all there is.
        Volatile.Write(ref _mustDrain, 1);
        RequestRead();
    }

    /// <summary>No more bytes will be received: the application sees the end (or the error), and the connection is closed for it, as with Kestrel's socket transport.</summary>
    private void EndInput(Exception? error)
    {
        if (Interlocked.Exchange(ref _inputDone, 1) == 0)
        {
            _input.EndInput(error);
            // On the pool, as Kestrel's transport does: its handlers must not run inside a read.
            ThreadPool.UnsafeQueueUserWorkItem(static closed =>
            {
                try
                {
                    closed.Cancel();
                }
                catch (ObjectDisposedException)
                {
                }
            }, _closed, preferLocal: false);
        }
    }

    /// <summary>Cuts the connection both ways now: pending reads end with <paramref name="abortReason"/>, pending sends stop.</summary>
    public override void Abort(ConnectionAbortedException abortReason)
    {
        if (!_handle.IsClosed)
        {
            try
            {
                _output.SendFlushedBeforeAbort();
                Native.Shutdown(_handle, Native.SHUT_RDWR);
            }
            catch (ObjectDisposedException)
            {
            }
        }
        _output.Abort();
        EndInput(abortReason);
    }

    /// <summary>
    /// Waits until what was written is sent (or sending failed; a peer that reads nothing for
    /// <see cref="SendOnDisposeTimeout"/> gets the connection cut), then closes the socket.
    /// </summary>
    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        _output.Complete();
        _input.Complete();
        var drained = _output.Drained;
        if (!drained.IsCompleted)
        {
            try
            {
                await drained.WaitAsync(SendOnDisposeTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Abort(new ConnectionAbortedException("The peer read nothing of the last bytes sent."));
            }
        }
        _loop?.Remove(Key);
        EndInput(null);
        _socket.Dispose();
        _output.Release();
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
