using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;
using Microsoft.AspNetCore.Connections;

namespace Foobar.Http.Transport;

/// <summary>
/// An <see cref="EpollConnection"/>'s output: the application writes into the connection's own
/// blocks, and a flush sends them right there, on the flushing thread, with one <c>send</c> (or a
/// gathered <c>sendmsg</c>) — no pipe between the writer and the socket, no send loop, no lock.
/// Only when the socket's buffer is full do the rest wait for epoll to say it is writable again;
/// the loop's thread then sends them, and the writer goes on until <see cref="MaxUnsent"/> bytes
/// wait, as with Kestrel's socket transport.
/// </summary>
/// <remarks>
/// One writer at a time (the <see cref="PipeWriter"/> contract); <see cref="OnWritable"/> comes
/// from the loop's thread and <see cref="Abort"/> from any. The writer and the loop share the
/// blocks only while bytes wait for the socket, and then under <c>_lock</c>; the first block stays
/// with the connection, so a response that fits in it costs no block from the pool.
/// </remarks>
/// <param name="handle">The connection's socket.</param>
/// <param name="pool">Where blocks come from.</param>
/// <param name="failed">Told once when sending fails (the peer reset the connection).</param>
internal sealed class SocketOutput(SafeSocketHandle handle, MemoryPool<byte> pool, Action<ConnectionResetException> failed) : PipeWriter, IValueTaskSource<FlushResult>
{
    /// <summary>Bytes flushed and not yet sent before a flush waits (Kestrel's socket transport: 64 KB, resuming at half).</summary>
    public const int MaxUnsent = 64 * 1024;

    /// <summary>Segments gathered by one <c>sendmsg</c>.</summary>
    public const int MaxVectors = 32;

    /// <summary>The smallest block asked of the pool (a pipe's default segment size; the pool's blocks are 4 KB).</summary>
    private const int MinSegmentSize = 4096;

    /// <summary>One spare block object (its memory back in the pool): written by the sending side, taken by the writing side.</summary>
    private Segment? _spare;

    private readonly Lock _lock = new();
    /// <summary>The segments of one gathered send, pinned for its call.</summary>
    private readonly MemoryHandle[] _pins = new MemoryHandle[MaxVectors];
    private ManualResetValueTaskSourceCore<FlushResult> _flush = new() { RunContinuationsAsynchronously = false };
    /// <summary>The first segment with bytes not yet sent (or the tail).</summary>
    private Segment? _head;
    /// <summary>The segment being written.</summary>
    private Segment? _tail;
    /// <summary>The end of what was flushed: bytes up to it may be sent.</summary>
    private Segment? _flushedSegment;
    private int _flushedEnd;
    /// <summary>Bytes flushed and not yet sent, while the socket is full (changed under <c>_lock</c>).</summary>
    private long _unsent;
    /// <summary>Whether flushed bytes wait for the socket: the loop's thread sends them (set by the writer, cleared by whoever sends the last).</summary>
    private volatile bool _waiting;
    private bool _flushPending;
    private CancellationTokenRegistration _flushCancellation;
    private volatile bool _cancelNextFlush;
    private bool _completed;
    private volatile bool _ended;
    private TaskCompletionSource? _drained;
    /// <summary>Why sending failed, until the owner is told (outside the lock).</summary>
    private ConnectionResetException? _failure;

    /// <summary>Finished when everything written before <see cref="Complete"/> is sent, or sending ended otherwise (failed, aborted).</summary>
    public Task Drained
    {
        get
        {
            lock (_lock)
            {
                return !_waiting || _ended ? Task.CompletedTask : (_drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
        }
    }

    /// <inheritdoc />
    public override bool CanGetUnflushedBytes => true;

    /// <inheritdoc />
    public override long UnflushedBytes
    {
        get
        {
            long bytes = 0;
            var segment = _flushedSegment ?? _head;
            var start = _flushedSegment is null ? segment?.Start ?? 0 : _flushedEnd;
            for (; segment is not null; segment = segment.Next, start = 0)
            {
                bytes += segment.End - Math.Max(start, segment.Start);
            }
            return bytes;
        }
    }

    /// <inheritdoc />
    public override void Advance(int bytes)
    {
        var tail = _tail;
        if (tail is null || bytes < 0 || tail.End + bytes > tail.Memory.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "more bytes than the memory given out");
        }
        tail.End += bytes;
    }

    /// <inheritdoc />
    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        if (_completed)
        {
            throw new InvalidOperationException("Writing is not allowed after the writer was completed.");
        }
        var size = Math.Max(sizeHint, 1);
        var tail = _tail;
        if (tail is null)
        {
            _head = _tail = tail = Segment.Rent(pool, size, TakeSpare());
        }
        else if (tail.Memory.Length - tail.End < size && !(Rewind() && tail.Memory.Length >= size))
        {
            var next = Segment.Rent(pool, size, TakeSpare());
            // The loop's thread may be walking the flushed segments: the link is published with the flush.
            tail.Next = next;
            _tail = tail = next;
        }
        return tail.Memory[tail.End..];
    }

    /// <inheritdoc />
    public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    /// <summary>
    /// Appends <paramref name="bytes"/> without copying them: they are sent from where they are,
    /// as nginx sends a file from the page cache, so they must not change until the connection is
    /// done with them — an immutable array such as a cached file's. What is written next goes
    /// into a block of its own after them.
    /// </summary>
    public void WriteUnowned(ReadOnlyMemory<byte> bytes)
    {
        if (_completed)
        {
            throw new InvalidOperationException("Writing is not allowed after the writer was completed.");
        }
        if (bytes.IsEmpty)
        {
            return;
        }
        Append(Segment.Borrow(bytes, TakeSpare()));
    }

    /// <summary>
    /// Appends <paramref name="file"/>'s bytes without copying them anywhere: the kernel sends
    /// them from the file's own pages (<c>sendfile</c>), as nginx sends a file from the page
    /// cache. What is written next goes into a block of its own after them.
    /// </summary>
    public void WriteFile(SealedFile file)
    {
        if (_completed)
        {
            throw new InvalidOperationException("Writing is not allowed after the writer was completed.");
        }
        if (file.Length == 0)
        {
            return;
        }
        Append(Segment.Borrow(file, TakeSpare()));
    }

    private void Append(Segment segment)
    {
        if (_tail is not { } tail)
        {
            _head = _tail = segment;
            return;
        }
        // As in GetMemory: the link is published with the flush.
        tail.Next = segment;
        _tail = segment;
    }

    /// <inheritdoc />
    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        var canceled = _cancelNextFlush;
        _cancelNextFlush = false;
        if (_ended)
        {
            DiscardWritten();
            return new(new FlushResult(canceled, isCompleted: true));
        }
        if (_tail is null)
        {
            // Nothing was ever written.
            return new(new FlushResult(canceled, isCompleted: false));
        }
        ValueTask<FlushResult> result;
        if (Commit())
        {
            result = new(new FlushResult(canceled, _ended));
        }
        else
        {
            lock (_lock)
            {
                result = !_waiting || _unsent <= MaxUnsent || _ended || canceled ? new(new FlushResult(canceled, _ended)) : PendFlush(cancellationToken);
            }
        }
        ReportFailure();
        return result;
    }

    /// <summary>
    /// Marks what was written as flushed and sends what the socket takes now: true when nothing is
    /// left waiting for it (or sending ended); false when the rest waits, and the loop sends it.
    /// </summary>
    private bool Commit()
    {
        if (!_waiting)
        {
            // Nothing waits for the socket: this thread sends, no one else touches the blocks.
            MarkFlushed();
            if (Loop is { } loop && loop.CanDefer)
            {
                // On its loop's thread during a turn: the loop sends at the turn's end, together
                // with the other connections' bytes (one io_uring_enter for all).
                Defer(loop);
                return false;
            }
            if (!TrySendFlushed())
            {
                return Wait();
            }
            // All went: the next response starts at the block's start, so it never straddles two blocks.
            Rewind();
            return true;
        }
        lock (_lock)
        {
            var waiting = _waiting;
            MarkFlushed();
            // Unless the loop sent the last of what waited meanwhile, it sends this too.
            return !waiting && (TrySendFlushed() || Wait());
        }
    }

    /// <summary>
    /// From the writer: when the only block holds nothing unsent and nothing waits for the socket,
    /// writing starts at its beginning again; whether it did.
    /// </summary>
    private bool Rewind()
    {
        if (_tail is not { } tail || tail != _head || tail.Start != tail.End || _waiting || tail.IsBorrowed)
        {
            return false;
        }
        tail.Start = tail.End = 0;
        _flushedSegment = null;
        return true;
    }

    /// <summary>The socket is full: from now on the loop sends the flushed bytes; true if they went after all.</summary>
    private bool Wait()
    {
        lock (_lock)
        {
            _waiting = true;
            _unsent = FlushedUnsent();
            // The edge may have come between the full buffer and the line above: try once more.
            return TrySendFlushed();
        }
    }

    /// <summary>Under <c>_lock</c>: a flush that waits until the loop has sent enough.</summary>
    private ValueTask<FlushResult> PendFlush(CancellationToken cancellationToken)
    {
        _flush.Reset();
        _flushPending = true;
        if (cancellationToken.CanBeCanceled)
        {
            _flushCancellation = cancellationToken.UnsafeRegister(static (state, token) => ((SocketOutput)state!).EndFlush(null, token), this);
        }
        return new(this, _flush.Version);
    }

    /// <summary>
    /// Ends a pending flush, if one is: with <paramref name="result"/>, or cancelled by
    /// <paramref name="token"/> when null. Never under <c>_lock</c>: the writer continues inline.
    /// </summary>
    private void EndFlush(FlushResult? result, CancellationToken token = default)
    {
        lock (_lock)
        {
            if (!_flushPending)
            {
                return;
            }
            _flushPending = false;
            _flushCancellation.Unregister();
            _flushCancellation = default;
        }
        if (result is { } done)
        {
            _flush.SetResult(done);
        }
        else
        {
            _flush.SetException(new OperationCanceledException(token));
        }
    }

    /// <summary>Tells the owner, once and outside the lock, that sending failed.</summary>
    private void ReportFailure()
    {
        if (Volatile.Read(ref _failure) is not null && Interlocked.Exchange(ref _failure, null) is { } failure)
        {
            failed(failure);
        }
    }

    /// <summary>After the end: what the writer writes goes nowhere (the first block is kept for it).</summary>
    private void DiscardWritten()
    {
        lock (_lock)
        {
            for (var segment = _head; segment is not null && segment != _tail;)
            {
                var next = segment.Next;
                Recycle(segment);
                segment = next;
            }
            _head = _tail;
            _flushedSegment = null;
            if (_tail is { IsBorrowed: true } borrowed)
            {
                Recycle(borrowed);
                _head = _tail = null;
            }
            else if (_tail is { } tail)
            {
                tail.Start = tail.End = 0;
                tail.Next = null;
            }
        }
    }

    /// <summary>Bytes from the head to the flushed end.</summary>
    private long FlushedUnsent()
    {
        long bytes = 0;
        for (var segment = _head; segment is not null; segment = segment.Next)
        {
            var end = segment == _flushedSegment ? _flushedEnd : segment.End;
            bytes += end - segment.Start;
            if (segment == _flushedSegment)
            {
                break;
            }
        }
        return bytes;
    }

    /// <summary>
    /// From the loop's thread: the socket takes bytes again; sends what waits, on this thread. Also
    /// from the pool for bytes the loop deferred and its rescuer took over (<see cref="EpollLoop"/>).
    /// </summary>
    public void OnWritable()
    {
        if (!_waiting)
        {
            return;
        }
        bool shut, resume;
        lock (_lock)
        {
            if (!_waiting || _ended)
            {
                return;
            }
            TrySendFlushed();
            (resume, shut) = AfterLoopSent();
        }
        Resume(resume, shut);
    }

    /// <summary>
    /// The loop this connection's events come from, once registered: a flush on its thread
    /// during a turn leaves the sending to the turn's end (<see cref="EpollLoop.CanDefer"/>).
    /// </summary>
    public EpollLoop? Loop { get; set; }

    /// <summary>Whether this output is on its loop's list for the turn's end (touched under the loop's lock of that list only).</summary>
    internal bool IsDeferred { get; set; }

    /// <summary>On the loop's thread, with nothing waiting: the flushed bytes wait for the turn's end.</summary>
    private void Defer(EpollLoop loop)
    {
        lock (_lock)
        {
            _waiting = true;
            _unsent = FlushedUnsent();
        }
        loop.Defer(this);
    }

    /// <summary>
    /// From the loop's thread at a turn's end: queues one <c>sendmsg</c> of the flushed bytes on
    /// <paramref name="ring"/>, with <paramref name="message"/> and <paramref name="vectors"/>
    /// (room for <see cref="MaxVectors"/>) to describe them. True when queued: this output's lock
    /// is then held, and its socket kept open, until <see cref="RingSent"/>. False when there is
    /// nothing to queue this way (nothing waits, sending ended, the bytes start with a file):
    /// the caller sends with <see cref="OnWritable"/>.
    /// </summary>
    internal unsafe bool TryQueueOn(LoopRing ring, ulong userData, Native.MessageHeader* message, Native.IoVector* vectors)
    {
        _lock.Enter();
        var queued = false;
        try
        {
            if (!_waiting || _ended || _head is not { } first || first.File is not null)
            {
                return false;
            }
            var count = Gather(first, vectors, out var flags);
            _ringPins = count;
            if (count == 0)
            {
                return false;
            }
            try
            {
                var added = false;
                handle.DangerousAddRef(ref added);
            }
            catch (ObjectDisposedException)
            {
                // The socket was closed: nothing more can be sent (the connection ends sending).
                return false;
            }
            *message = new Native.MessageHeader { Vectors = vectors, VectorCount = (nuint)count };
            if (!ring.QueueSendMessage((int)handle.DangerousGetHandle(), message, flags, userData))
            {
                handle.DangerousRelease();
                return false;
            }
            queued = true;
            return true;
        }
        finally
        {
            if (!queued)
            {
                UnpinRing();
                _lock.Exit();
            }
        }
    }

    /// <summary>
    /// The <c>sendmsg</c> queued by <see cref="TryQueueOn"/> ended with <paramref name="result"/>
    /// (bytes sent, or −errno): what it sent is done with, the rest waits for the socket as after
    /// any send, and the lock is let go. Runs none of the writer's code: what should follow (a
    /// waiting flush resumed, the end of the stream) is returned for <see cref="Resume"/>, which
    /// the loop calls once every output of the batch is settled.
    /// </summary>
    internal (bool Resume, bool Shut) RingSent(int result)
    {
        try
        {
            UnpinRing();
            handle.DangerousRelease();
            if (_ended || _head is null)
            {
                return (false, false);
            }
            if (result > 0)
            {
                Consume(result);
            }
            if (result < 0 && result != -Native.EAGAIN && result != -Native.EINTR)
            {
                End();
                Volatile.Write(ref _failure, new ConnectionResetException(Marshal.GetPInvokeErrorMessage(-result)));
            }
            else
            {
                // All of it went (nothing is sent then), or the socket was full: what is left
                // goes now or with the next EPOLLOUT, as after a send of the writer's.
                TrySendFlushed();
            }
            return AfterLoopSent();
        }
        finally
        {
            _lock.Exit();
        }
    }

    private int _ringPins;

    private void UnpinRing()
    {
        for (var i = 0; i < _ringPins; i++)
        {
            _pins[i].Dispose();
        }
        _ringPins = 0;
    }

    /// <summary>Under <c>_lock</c>, after the loop sent: whether a waiting flush resumes, and whether the end of the stream goes out now.</summary>
    private (bool Resume, bool Shut) AfterLoopSent()
    {
        var resume = _flushPending && (_unsent <= MaxUnsent / 2 || _ended);
        var shut = !_waiting && _completed && !_ended;
        if (!_waiting || _ended)
        {
            _drained?.TrySetResult();
        }
        return (resume, shut);
    }

    /// <summary>Outside <c>_lock</c>: tells of a failure, sends the end of the stream, resumes a waiting flush.</summary>
    internal void Resume(bool resume, bool shut)
    {
        ReportFailure();
        if (shut)
        {
            ShutdownSend();
        }
        if (resume)
        {
            EndFlush(new FlushResult(isCanceled: false, _ended));
        }
    }

    /// <summary>
    /// Sends the flushed bytes the socket takes now, frees the segments that went (the tail stays
    /// for the writer); true when none is left. A failure ends sending for good.
    /// </summary>
    private bool TrySendFlushed()
    {
        try
        {
            while (true)
            {
                var head = _head!;
                var end = head == _flushedSegment ? _flushedEnd : head.End;
                if (head.Start == end)
                {
                    if (head == _flushedSegment || head.Next is null)
                    {
                        _unsent = 0;
                        _waiting = false;
                        return true;
                    }
                    // Fully sent and not the flushed end: the next one follows.
                    _head = head.Next;
                    Recycle(head);
                    continue;
                }
                long sent = head.File is { } file ? TrySendFile(file, head.Start, end)
                    : head == _flushedSegment || head.Next is null ? TrySend(head.Memory.Span[head.Start..end])
                    : TrySendGathered(head);
                if (sent == 0)
                {
                    return false;
                }
                Consume(sent);
            }
        }
        catch (ConnectionResetException e)
        {
            lock (_lock)
            {
                End();
            }
            Volatile.Write(ref _failure, e);
            return true;
        }
        catch (ObjectDisposedException)
        {
            // The connection closed its socket (a loop sending at a turn's end may come after):
            // nothing more goes, and the loop's thread must not fail over it.
            lock (_lock)
            {
                End();
            }
            return true;
        }
    }

    /// <summary>Moves the start past <paramref name="sent"/> bytes, over as many segments as they span.</summary>
    private void Consume(long sent)
    {
        if (_waiting)
        {
            _unsent -= sent;
        }
        var segment = _head!;
        while (true)
        {
            var end = segment == _flushedSegment ? _flushedEnd : segment.End;
            var here = (int)Math.Min(sent, end - segment.Start);
            segment.Start += here;
            sent -= here;
            if (sent == 0)
            {
                return;
            }
            _head = segment.Next!;
            Recycle(segment);
            segment = _head;
        }
    }

    /// <summary>What was written so far may go: the flushed end moves to the tail's end.</summary>
    private void MarkFlushed()
    {
        if (_tail is not { } tail)
        {
            return;
        }
        if (_waiting)
        {
            _unsent += UnflushedBytes;
        }
        _flushedSegment = tail;
        _flushedEnd = tail.End;
    }

    /// <summary>Non-blocking <c>send</c>s until the socket buffer is full: how many bytes went.</summary>
    /// <exception cref="ConnectionResetException">The peer reset the connection or it failed.</exception>
    private unsafe int TrySend(ReadOnlySpan<byte> data)
    {
        var total = 0;
        while (total < data.Length)
        {
            nint sent;
            fixed (byte* p = data[total..])
            {
                sent = Native.Send(handle, p, data.Length - total, Native.MSG_DONTWAIT | Native.MSG_NOSIGNAL);
            }
            if (sent >= 0)
            {
                total += (int)sent;
                continue;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (errno == Native.EAGAIN)
            {
                return total;
            }
            if (errno != Native.EINTR)
            {
                throw new ConnectionResetException(Marshal.GetPInvokeErrorMessage(errno));
            }
        }
        return total;
    }

    /// <summary>
    /// One non-blocking <c>sendmsg</c> gathering up to <see cref="MaxVectors"/> flushed segments
    /// from <paramref name="first"/> (a 1 MB body is 256 of the pool's 4 KB blocks): how many bytes
    /// went (0: the socket buffer is full).
    /// </summary>
    /// <exception cref="ConnectionResetException">The peer reset the connection or it failed.</exception>
    private unsafe long TrySendGathered(Segment first)
    {
        var vectors = stackalloc Native.IoVector[MaxVectors];
        var count = 0;
        try
        {
            count = Gather(first, vectors, out var flags);
            var message = new Native.MessageHeader { Vectors = vectors, VectorCount = (nuint)count };
            while (true)
            {
                var sent = Native.SendMessage(handle, &message, flags);
                if (sent >= 0)
                {
                    return sent;
                }
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Native.EAGAIN)
                {
                    return 0;
                }
                if (errno != Native.EINTR)
                {
                    throw new ConnectionResetException(Marshal.GetPInvokeErrorMessage(errno));
                }
            }
        }
        finally
        {
            for (var i = 0; i < count; i++)
            {
                _pins[i].Dispose();
            }
        }
    }

    /// <summary>
    /// Non-blocking <c>sendfile</c>s of <paramref name="file"/> from <paramref name="start"/> to
    /// <paramref name="end"/> until the socket buffer is full: how many bytes went.
    /// </summary>
    /// <exception cref="ConnectionResetException">The peer reset the connection or it failed.</exception>
    private unsafe long TrySendFile(SealedFile file, int start, int end)
    {
        long offset = start;
        while (offset < end)
        {
            // The socket is non-blocking (epoll): sendfile takes what fits and says EAGAIN when nothing does.
            var sent = Native.SendFile(handle, file.Handle, &offset, end - (nint)offset);
            if (sent > 0)
            {
                continue;
            }
            var errno = sent == 0 ? 0 : Marshal.GetLastPInvokeError();
            if (errno == Native.EAGAIN)
            {
                break;
            }
            if (errno != Native.EINTR)
            {
                throw new ConnectionResetException(sent == 0 ? "the file ended before its length (sendfile sent nothing)" : Marshal.GetPInvokeErrorMessage(errno));
            }
        }
        return offset - start;
    }

    /// <summary>
    /// Pins the flushed segments from <paramref name="first"/> (up to <see cref="MaxVectors"/>, up
    /// to a file's segment) into <c>_pins</c> and describes them in <paramref name="vectors"/>: how
    /// many, and the <c>sendmsg</c> flags for them.
    /// </summary>
    private unsafe int Gather(Segment first, Native.IoVector* vectors, out int flags)
    {
        var count = 0;
        flags = Native.MSG_DONTWAIT | Native.MSG_NOSIGNAL;
        for (var segment = first; segment is not null && count < MaxVectors; segment = segment == _flushedSegment ? null : segment.Next)
        {
            if (segment.File is not null)
            {
                // The file follows with sendfile: these bytes go out in the same packet as its first ones.
                flags |= Native.MSG_MORE;
                break;
            }
            var end = segment == _flushedSegment ? _flushedEnd : segment.End;
            if (end == segment.Start)
            {
                continue;
            }
            _pins[count] = segment.Memory[segment.Start..end].Pin();
            vectors[count] = new Native.IoVector { Base = _pins[count].Pointer, Length = (nuint)(end - segment.Start) };
            count++;
        }
        return count;
    }

    /// <inheritdoc />
    public override void CancelPendingFlush()
    {
        bool pending;
        lock (_lock)
        {
            pending = _flushPending;
            _cancelNextFlush = !pending;
        }
        if (pending)
        {
            EndFlush(new FlushResult(isCanceled: true, _ended));
        }
    }

    /// <summary>
    /// No more writes: what was written goes (now, or from the loop once the socket takes it), and
    /// then the peer reads the end of the stream.
    /// </summary>
    public override void Complete(Exception? exception = null)
    {
        if (_completed)
        {
            return;
        }
        _cancelNextFlush = false;
        if (!_ended && _tail is not null)
        {
            // What was written and not flushed still goes, as with a pipe (from the loop when the
            // socket is full); a flush may be waiting already, so no flush of its own.
            Commit();
            ReportFailure();
        }
        bool shut;
        lock (_lock)
        {
            _completed = true;
            shut = !_waiting && !_ended;
        }
        if (shut)
        {
            ShutdownSend();
        }
    }

    /// <summary>
    /// Before the connection is cut: sends what was flushed and still waits — for the end of its
    /// loop's turn (<see cref="Defer"/>) or for a full socket — as far as the socket takes it now, so a
    /// response flushed before an abort still goes out, as it did when every flush sent at once.
    /// </summary>
    public void SendFlushedBeforeAbort()
    {
        if (!_waiting)
        {
            return;
        }
        lock (_lock)
        {
            if (_waiting && !_ended)
            {
                TrySendFlushed();
            }
        }
    }

    /// <summary>Stops sending for good: the connection was cut. A pending flush returns (completed), <see cref="Drained"/> finishes.</summary>
    public void Abort()
    {
        lock (_lock)
        {
            End();
        }
        EndFlush(new FlushResult(isCanceled: false, isCompleted: true));
    }

    /// <summary>Under <c>_lock</c> (or from the writer with nothing waiting): nothing more will be sent.</summary>
    private void End()
    {
        if (_ended)
        {
            return;
        }
        _ended = true;
        _waiting = false;
        _unsent = 0;
        _drained?.TrySetResult();
    }

    /// <summary>A block object given back earlier, to take again: a busy connection needs a new block every other response or so.</summary>
    private Segment? TakeSpare() => _spare is null ? null : Interlocked.Exchange(ref _spare, null);

    /// <summary>Gives <paramref name="segment"/>'s memory back to the pool and keeps the object itself for the next block.</summary>
    private void Recycle(Segment segment)
    {
        segment.Return();
        Volatile.Write(ref _spare, segment);
    }

    /// <summary>Gives the blocks back to the pool; only once nothing writes or sends any more (the connection is disposed).</summary>
    public void Release()
    {
        Abort();
        lock (_lock)
        {
            for (var segment = _head; segment is not null;)
            {
                var next = segment.Next;
                segment.Return();
                segment = next;
            }
            _head = _tail = _flushedSegment = null;
            _completed = true;
        }
    }

    private void ShutdownSend()
    {
        try
        {
            Native.Shutdown(handle, Native.SHUT_WR);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    FlushResult IValueTaskSource<FlushResult>.GetResult(short token) => _flush.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<FlushResult>.GetStatus(short token) => _flush.GetStatus(token);

    void IValueTaskSource<FlushResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _flush.OnCompleted(continuation, state, token, flags);

    /// <summary>
    /// A block of the output: bytes from <see cref="Start"/> to <see cref="End"/> are written and
    /// not yet sent. Either the connection's own, or the caller's bytes sent as they are (<see cref="IsBorrowed"/>).
    /// </summary>
    private sealed class Segment
    {
        private IMemoryOwner<byte>? _owner;
        private byte[]? _array;

        public Memory<byte> Memory { get; private set; }

        /// <summary>Whether the bytes are the caller's (<see cref="WriteUnowned"/>, <see cref="WriteFile"/>): full, never written into, never rewound.</summary>
        public bool IsBorrowed { get; private set; }

        /// <summary>The file sent from (<see cref="WriteFile"/>): <see cref="Start"/> and <see cref="End"/> are offsets in it, and <see cref="Memory"/> is empty.</summary>
        public SealedFile? File { get; private set; }

        public int Start { get; set; }

        public int End { get; set; }

        public Segment? Next { get; set; }

        /// <summary>A block of at least <paramref name="size"/> bytes: the pool's, or an array from the shared array pool when larger.</summary>
        public static Segment Rent(MemoryPool<byte> pool, int size, Segment? reuse)
        {
            size = Math.Max(size, MinSegmentSize);
            var segment = reuse ?? new Segment();
            if (size <= pool.MaxBufferSize)
            {
                segment._owner = pool.Rent(size);
                segment.Memory = segment._owner.Memory;
            }
            else
            {
                segment._array = ArrayPool<byte>.Shared.Rent(size);
                segment.Memory = segment._array;
            }
            return segment;
        }

        /// <summary>A segment over <paramref name="bytes"/>, all of them to send.</summary>
        public static Segment Borrow(ReadOnlyMemory<byte> bytes, Segment? reuse)
        {
            var segment = reuse ?? new Segment();
            segment.Memory = MemoryMarshal.AsMemory(bytes);
            segment.End = bytes.Length;
            segment.IsBorrowed = true;
            return segment;
        }

        /// <summary>A segment over <paramref name="file"/>'s bytes, all of them to send.</summary>
        public static Segment Borrow(SealedFile file, Segment? reuse)
        {
            var segment = reuse ?? new Segment();
            segment.File = file;
            segment.End = file.Length;
            segment.IsBorrowed = true;
            return segment;
        }

        public void Return()
        {
            File = null;
            _owner?.Dispose();
            _owner = null;
            if (_array is not null)
            {
                ArrayPool<byte>.Shared.Return(_array);
                _array = null;
            }
            Memory = default;
            Next = null;
            Start = End = 0;
            IsBorrowed = false;
        }
    }
}
