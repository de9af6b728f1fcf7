using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace Foobar.MySql.Transport;

/// <summary>
/// A socket's wait for readiness on <see cref="ReadinessLoop"/>: one wait at a time (a MySQL
/// connection never reads and writes at once), reused without allocating. Completes when the
/// socket is ready, the wait's token is cancelled, or the socket is disposed.
/// </summary>
internal sealed class ReadinessWaiter : IValueTaskSource, IDisposable
{
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _cancellation;
    private int _pending;
    private bool _added;
    private volatile bool _disposed;

    public ReadinessWaiter(SafeSocketHandle socket)
    {
        Socket = socket;
        Key = ReadinessLoop.NewKey();
    }

    public SafeSocketHandle Socket { get; }

    public long Key { get; }

    public bool IsPending => Volatile.Read(ref _pending) == 1;

    /// <summary>Waits until the socket may be read (or written, <paramref name="write"/>) without blocking; may wake early, so callers try again and wait again.</summary>
    /// <exception cref="ObjectDisposedException">The socket was closed before or during the wait.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public ValueTask WaitAsync(bool write, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Volatile.Read(ref _pending) == 1)
        {
            throw new InvalidOperationException("a socket wait is already pending");
        }
        _core.Reset();
        ReadinessLoop.Track(this);
        Volatile.Write(ref _pending, 1);
        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((ReadinessWaiter)state!).Complete(new OperationCanceledException(token)), this);
        }
        if (ReadinessLoop.Arm(this, write ? LibC.EPOLLOUT : LibC.EPOLLIN, !_added, out var errno))
        {
            _added = true;
        }
        else
        {
            Complete(errno == 9 ? new ObjectDisposedException(nameof(SocketStream)) : new IOException("epoll_ctl failed", LibC.SocketError(errno)));
        }
        if (_disposed)
        {
            Complete(new ObjectDisposedException(nameof(SocketStream)));
        }
        return new ValueTask(this, _core.Version);
    }

    /// <summary>From <see cref="ReadinessLoop"/>: the socket is ready (or failed; the next call tells).</summary>
    public void Signal(bool inline) => Complete(null, inline);

    /// <summary>Ends the wait once; <paramref name="inline"/> runs the continuation on this thread (only the loop's own, when the application asked for it).</summary>
    private void Complete(Exception? error, bool inline = false)
    {
        if (Interlocked.Exchange(ref _pending, 0) != 1)
        {
            return;
        }
        _core.RunContinuationsAsynchronously = !inline;
        ReadinessLoop.Untrack(Key);
        if (error is null)
        {
            _core.SetResult(true);
        }
        else
        {
            _core.SetException(error);
        }
    }

    public void GetResult(short token)
    {
        _cancellation.Unregister();
        _cancellation = default;
        _core.GetResult(token);
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    public void Dispose()
    {
        _disposed = true;
        Complete(new ObjectDisposedException(nameof(SocketStream)));
    }
}
