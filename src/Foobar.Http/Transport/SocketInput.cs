using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Sources;

namespace Foobar.Http.Transport;

/// <summary>
/// An <see cref="EpollConnection"/>'s input: the loop's thread receives straight into the
/// connection's blocks (<see cref="GetReceiveMemory"/>, <see cref="Received"/>) and a waiting read
/// continues right there, inline — no pipe between the socket and the reader. The first block stays
/// with the connection and is received into again from its start once everything in it was read,
/// so a request that fits in it costs no block from the pool.
/// </summary>
/// <remarks>
/// One reader at a time (the <see cref="PipeReader"/> contract) on any thread, one receiver (the
/// loop's thread, or whichever thread <see cref="EpollConnection"/> lets read). They share the
/// blocks under <c>_lock</c>; the reader walks only blocks before the end it was given, and the
/// block being received into is never returned while a receive is under way.
/// </remarks>
/// <param name="pool">Where blocks come from.</param>
/// <param name="resume">Called (outside the lock, on the reader's thread) when the reader caught up after <see cref="Received"/> said <see cref="ReceiveOutcome.Pause"/>.</param>
internal sealed class SocketInput(MemoryPool<byte> pool, Action resume) : PipeReader, IValueTaskSource<ReadResult>
{
    /// <summary>Bytes received and not yet consumed before receiving pauses (Kestrel's socket transport: 1 MB, resuming at half).</summary>
    public const int MaxBuffered = 1 << 20;

    /// <summary>The least room a receive is given (a pipe's minimum read size; the pool's blocks are 4 KB): less left in the tail starts a new block.</summary>
    public const int MinReceiveSize = 4096;

    private readonly Lock _lock = new();
    private ManualResetValueTaskSourceCore<ReadResult> _read = new() { RunContinuationsAsynchronously = false };
    /// <summary>The first block with bytes not yet consumed (or the tail).</summary>
    private Block? _head;
    private int _headIndex;
    /// <summary>The block received into.</summary>
    private Block? _tail;
    /// <summary>Bytes received and not yet consumed.</summary>
    private long _buffered;
    /// <summary>The reader examined everything received so far: a read waits for more.</summary>
    private bool _examinedAll;
    private bool _readPending;
    private CancellationTokenRegistration _readCancellation;
    private CancellationToken _readToken;
    private bool _cancelNextRead;
    /// <summary>A receive into the tail is under way (between <see cref="GetReceiveMemory"/> and <see cref="Received"/>).</summary>
    private bool _receiving;
    private volatile bool _paused;
    private bool _inputEnded;
    private Exception? _inputError;
    private bool _readerCompleted;

    /// <summary>What the receiver does after <see cref="Received"/>.</summary>
    public enum ReceiveOutcome
    {
        /// <summary>Go on receiving.</summary>
        Continue,

        /// <summary>The reader is behind (<see cref="MaxBuffered"/>): stop until told to resume.</summary>
        Pause,

        /// <summary>The reader completed, or the input was ended: receive no more.</summary>
        Stop,
    }

    /// <summary>Whether receiving waits for the reader to catch up (from <see cref="ReceiveOutcome.Pause"/> until <c>resume</c> is called).</summary>
    public bool IsPaused => _paused;

    /// <summary>From the receiver: room to receive into, at least <see cref="MinReceiveSize"/> bytes; <see cref="Received"/> must follow.</summary>
    public Memory<byte> GetReceiveMemory()
    {
        lock (_lock)
        {
            _receiving = true;
            var tail = _tail;
            if (tail is null)
            {
                _head = _tail = tail = Block.Rent(pool, runningIndex: 0);
                _headIndex = 0;
            }
            else if (ReferenceEquals(_head, tail) && _headIndex == tail.End)
            {
                // Everything in it was consumed: receive into it again from its start.
                tail.Rewind();
                _headIndex = 0;
            }
            else if (tail.Capacity - tail.End < MinReceiveSize)
            {
                var next = Block.Rent(pool, tail.RunningIndex + tail.End);
                tail.SetNext(next);
                _tail = tail = next;
            }
            return tail.Writable;
        }
    }

    /// <summary>From the receiver: <paramref name="bytes"/> (0 for none) were received into the memory of <see cref="GetReceiveMemory"/>; a waiting read continues on this thread.</summary>
    public ReceiveOutcome Received(int bytes)
    {
        ReadResult result;
        lock (_lock)
        {
            _receiving = false;
            if (_readerCompleted || _inputEnded)
            {
                ReleaseIfDone();
                return ReceiveOutcome.Stop;
            }
            if (bytes == 0)
            {
                return ReceiveOutcome.Continue;
            }
            _tail!.Advance(bytes);
            _buffered += bytes;
            _examinedAll = false;
            if (_buffered >= MaxBuffered)
            {
                _paused = true;
            }
            if (!_readPending)
            {
                return _paused ? ReceiveOutcome.Pause : ReceiveOutcome.Continue;
            }
            _readPending = false;
            result = new ReadResult(Buffer(), isCanceled: false, isCompleted: false);
        }
        var outcome = _paused ? ReceiveOutcome.Pause : ReceiveOutcome.Continue;
        _read.SetResult(result);
        return outcome;
    }

    /// <summary>No more bytes will be received: a read returns what is left and then completes (or throws <paramref name="error"/> at once, as a pipe does).</summary>
    public void EndInput(Exception? error)
    {
        ReadResult result;
        lock (_lock)
        {
            if (_inputEnded)
            {
                return;
            }
            _inputEnded = true;
            _inputError = error;
            if (!_readPending)
            {
                return;
            }
            _readPending = false;
            result = new ReadResult(Buffer(), isCanceled: false, isCompleted: true);
        }
        Finish(result, error);
    }

    /// <inheritdoc />
    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ReadResult>(cancellationToken);
        }
        lock (_lock)
        {
            if (TryReadLocked(out var result))
            {
                return new(result);
            }
            if (_readPending)
            {
                throw new InvalidOperationException("Reading is already in progress.");
            }
            _read.Reset();
            _readPending = true;
            if (cancellationToken.CanBeCanceled)
            {
                // Under the lock, so the read cannot end before the registration is kept for GetResult
                // (a token cancelled meanwhile runs CancelRead here; the lock lets this thread in again).
                _readToken = cancellationToken;
                _readCancellation = cancellationToken.UnsafeRegister(static (state, token) => ((SocketInput)state!).CancelRead(token), this);
            }
        }
        return new(this, _read.Version);
    }

    /// <inheritdoc />
    public override bool TryRead(out ReadResult result)
    {
        lock (_lock)
        {
            return TryReadLocked(out result);
        }
    }

    private bool TryReadLocked(out ReadResult result)
    {
        ObjectDisposedException.ThrowIf(_readerCompleted, this);
        if (_cancelNextRead)
        {
            _cancelNextRead = false;
            result = new ReadResult(Buffer(), isCanceled: true, isCompleted: _inputEnded && _inputError is null);
            return true;
        }
        if (_inputEnded && _inputError is not null)
        {
            // The error itself, as a pipe throws its writer's: Kestrel tells resets and aborts by their type.
            ExceptionDispatchInfo.Throw(_inputError);
        }
        if (!_examinedAll && _buffered > 0 || _inputEnded)
        {
            result = new ReadResult(Buffer(), isCanceled: false, isCompleted: _inputEnded);
            return true;
        }
        result = default;
        return false;
    }

    /// <inheritdoc />
    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    /// <inheritdoc />
    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        var resumeNow = false;
        Block? released = null;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_readerCompleted, this);
            if (_head is null)
            {
                return;
            }
            var (target, index) = consumed.GetObject() switch
            {
                null => (_head, _headIndex),
                Block block => (block, consumed.GetInteger()),
                _ => throw new ArgumentOutOfRangeException(nameof(consumed), "a position that is not in what was read"),
            };
            var reachable = _head;
            while (reachable is not null && !ReferenceEquals(reachable, target))
            {
                reachable = reachable.NextBlock;
            }
            if (reachable is null || index > target.End || ReferenceEquals(target, _head) && index < _headIndex)
            {
                throw new ArgumentOutOfRangeException(nameof(consumed), "a position that is not in what was read, or before what was consumed");
            }
            // Blocks wholly consumed go back to the pool; the tail stays (it is received into).
            while (!ReferenceEquals(_head, target) || index == target.End && !ReferenceEquals(target, _tail))
            {
                var done = _head;
                _head = done.NextBlock!;
                done.Unlink();
                done.NextReleased = released;
                released = done;
                if (ReferenceEquals(done, target))
                {
                    target = _head;
                    index = 0;
                }
            }
            _headIndex = index;
            _buffered = _tail!.RunningIndex + _tail.End - (_head.RunningIndex + _headIndex);
            var examinedBlock = examined.GetObject() as Block;
            _examinedAll = examinedBlock is null
                ? _buffered == 0
                : examinedBlock.RunningIndex + examined.GetInteger() >= _tail!.RunningIndex + _tail.End;
            if (_paused && _buffered < MaxBuffered / 2)
            {
                _paused = false;
                resumeNow = !_inputEnded;
            }
        }
        while (released is not null)
        {
            var next = released.NextReleased;
            released.Return();
            released = next;
        }
        if (resumeNow)
        {
            resume();
        }
    }

    /// <inheritdoc />
    public override void CancelPendingRead()
    {
        ReadResult result;
        lock (_lock)
        {
            if (!_readPending)
            {
                _cancelNextRead = true;
                return;
            }
            _readPending = false;
            result = new ReadResult(Buffer(), isCanceled: true, isCompleted: false);
        }
        _read.SetResult(result);
    }

    private void CancelRead(CancellationToken token)
    {
        lock (_lock)
        {
            // Only the read this token was given to, not a later one.
            if (!_readPending || _readToken != token)
            {
                return;
            }
            _readPending = false;
        }
        _read.SetException(new OperationCanceledException(token));
    }

    /// <inheritdoc />
    public override void Complete(Exception? exception = null)
    {
        ReadResult? pending = null;
        lock (_lock)
        {
            if (_readerCompleted)
            {
                return;
            }
            _readerCompleted = true;
            if (_readPending)
            {
                _readPending = false;
                pending = default(ReadResult);
            }
            ReleaseIfDone();
        }
        if (pending is not null)
        {
            _read.SetException(new ObjectDisposedException(nameof(SocketInput)));
        }
    }

    /// <summary>With the reader gone and no receive under way, every block goes back to the pool.</summary>
    private void ReleaseIfDone()
    {
        if (!_readerCompleted || _receiving)
        {
            return;
        }
        for (var block = _head; block is not null;)
        {
            var next = block.NextBlock;
            block.Unlink();
            block.Return();
            block = next;
        }
        _head = _tail = null;
        _buffered = 0;
    }

    /// <summary>What is unconsumed; empty but still over the blocks when nothing is, so its positions can be given back to <see cref="AdvanceTo(SequencePosition)"/>.</summary>
    private ReadOnlySequence<byte> Buffer() =>
        _head is null ? default : new ReadOnlySequence<byte>(_head, _headIndex, _tail!, _tail!.End);

    private void Finish(ReadResult result, Exception? error)
    {
        if (error is null)
        {
            _read.SetResult(result);
        }
        else
        {
            _read.SetException(error);
        }
    }

    ReadResult IValueTaskSource<ReadResult>.GetResult(short token)
    {
        _readCancellation.Unregister();
        _readCancellation = default;
        _readToken = default;
        return _read.GetResult(token);
    }

    ValueTaskSourceStatus IValueTaskSource<ReadResult>.GetStatus(short token) => _read.GetStatus(token);

    void IValueTaskSource<ReadResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _read.OnCompleted(continuation, state, token, flags);

    /// <summary>A pool block in the input's chain; its <c>Memory</c> is what was received into it.</summary>
    private sealed class Block : ReadOnlySequenceSegment<byte>
    {
        private IMemoryOwner<byte>? _owner;
        private Memory<byte> _block;

        public int End { get; private set; }

        public int Capacity => _block.Length;

        public Memory<byte> Writable => _block[End..];

        public Block? NextBlock => (Block?)Next;

        /// <summary>A link in the list of blocks to return once the lock is let go.</summary>
        public Block? NextReleased { get; set; }

        public static Block Rent(MemoryPool<byte> pool, long runningIndex)
        {
            var owner = pool.Rent(MinReceiveSize);
            return new Block { _owner = owner, _block = owner.Memory, RunningIndex = runningIndex };
        }

        public void Advance(int bytes)
        {
            End += bytes;
            Memory = _block[..End];
        }

        /// <summary>Receives from the start again: the sequence's positions go on from where it ended.</summary>
        public void Rewind()
        {
            RunningIndex += End;
            End = 0;
            Memory = default;
        }

        public void SetNext(Block next) => Next = next;

        public void Unlink() => Next = null;

        public void Return()
        {
            _owner?.Dispose();
            _owner = null;
            _block = default;
            Memory = default;
            NextReleased = null;
        }
    }
}
