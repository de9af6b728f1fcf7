using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Foobar.Http.Transport;

/// <summary>
/// One epoll instance and its thread; one per processor, connections spread over them in turn.
/// A connection is registered once, edge-triggered for reading and writing, and its events are
/// handled on this thread: reads, and through the input's inline continuations Kestrel's request
/// processing and the sends it causes (what the runtime does with inline completions). A turn
/// (one <c>epoll_wait</c>'s events) reads its readable connections together and sends what its
/// flushes left together, one <c>io_uring_enter</c> each (<see cref="LoopRing"/>).
/// </summary>
internal sealed unsafe class EpollLoop : IRingCompletions
{
    private const int MaxEvents = 128;

    /// <summary>Connections one <c>io_uring_enter</c> reads, or sends the bytes of, at most.</summary>
    private const int MaxBatch = 64;

    /// <summary>
    /// Flushed connections that are sent at once, not at the turn's end: 16 in one
    /// <c>io_uring_enter</c> already cost about as little each as 64 (C microbench: 1.7 µs each at
    /// 8, 1.4 at 64, 3.2 alone), and the first answers of a busy turn wait less.
    /// </summary>
    private const int SendEarlyAt = 16;

    private static readonly Lazy<EpollLoop[]> All = new(() => [.. Enumerable.Range(0, Count).Select(i => new EpollLoop(i))]);
    private static int _next;

    [ThreadStatic]
    private static EpollLoop? t_current;

    private readonly int _epoll;
    private readonly Lock _slotsLock = new();
    /// <summary>
    /// The connections by slot: an event's key is its connection's slot (low 32 bits) and the slot's
    /// use (high 32 bits), so a late event for a connection gone finds another key there and is
    /// dropped. The loop's thread reads without a lock; slots change and the array grows under
    /// <c>_slotsLock</c>, the grown array published before any of its keys reaches epoll.
    /// </summary>
    private EpollConnection?[] _slots = new EpollConnection?[64];
    private int[] _uses = new int[64];
    private readonly Stack<int> _free = new();
    private int _used;

    /// <summary>
    /// The outputs flushed on this thread during the turn, sent at its end (<see cref="SendDeferred"/>)
    /// or, when the turn runs long, by the rescuer (<see cref="Rescue"/>); under <c>_deferLock</c>.
    /// </summary>
    private List<SocketOutput> _deferred = [];
    /// <summary>The list <see cref="SendDeferred"/> works through, swapped with <c>_deferred</c> (the loop's thread only).</summary>
    private List<SocketOutput> _sending = [];
    private readonly Lock _deferLock = new();
    /// <summary>The ring a turn's reads and sends go through together; null where io_uring is not available.</summary>
    private LoopRing? _ring;
    private bool _turning;
    /// <summary>For each entry of a batch: its output, and the message and vectors describing its bytes (native memory, never moved).</summary>
    private readonly SocketOutput?[] _batch = new SocketOutput?[MaxBatch];
    private readonly int[] _results = new int[MaxBatch];
    private readonly (bool Resume, bool Shut)[] _settled = new (bool, bool)[MaxBatch];
    private readonly List<SocketOutput> _plain = [];
    /// <summary>The connections epoll reported readable in this turn, read together after its events (<see cref="ReceiveQueued"/>).</summary>
    private readonly List<EpollConnection> _reads = [];
    /// <summary>Work posted from this loop's thread (<see cref="TryPost"/>), run after the turn's reads; the loop's thread only.</summary>
    private readonly List<(Action<object?> Work, object? State)> _posted = [];
    private readonly RingRead[] _readBatch = new RingRead[MaxBatch];
    private Native.MessageHeader* _messages;
    private Native.IoVector* _vectors;

    private EpollLoop(int index)
    {
        Index = index;
        _epoll = Native.EpollCreate(Native.EPOLL_CLOEXEC);
        if (_epoll < 0)
        {
            throw new IOException($"epoll_create1 failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
        // Linux keeps 15 characters of a thread's name (top -H, ps -L, /proc/PID/task/*/comm).
        new Thread(Run) { IsBackground = true, Name = $"http loop {index}" }.Start();
    }

    /// <summary>How many loops there are (<see cref="EpollTransport.Loops"/>, one per processor by default).</summary>
    public static int Count => Started ? All.Value.Length : EpollTransport.Loops;

    /// <summary>Whether the loops run (from the first connection on).</summary>
    public static bool Started => All.IsValueCreated;

    /// <summary>The loop whose thread this is; null on any other thread.</summary>
    public static EpollLoop? Current => t_current;

    /// <summary>This loop's number, from 0 to <see cref="Count"/> − 1.</summary>
    public int Index { get; }

    /// <summary>
    /// Whether a flush on this thread now leaves its sending to the end of the turn: on this
    /// loop's thread, while it handles events, with a ring to send them together.
    /// </summary>
    public bool CanDefer => t_current == this && _turning;

    /// <summary>
    /// From a loop's thread: runs <paramref name="work"/> on this thread once the turn's events and
    /// reads are handled, before its sends — not nested in whatever callback is running now (a
    /// connection's read completing, say, whose input may be taken up again by the work). False on
    /// any other thread: nothing is queued.
    /// </summary>
    public static bool TryPost(Action<object?> work, object? state)
    {
        if (t_current is not { } loop)
        {
            return false;
        }
        loop._posted.Add((work, state));
        return true;
    }

    /// <summary>Runs what <see cref="TryPost"/> queued, including what the work itself posts.</summary>
    private void RunPosted()
    {
        for (var i = 0; i < _posted.Count; i++)
        {
            var (work, state) = _posted[i];
            _posted[i] = default;
            work(state);
            SendIfDue();
        }
        _posted.Clear();
    }

    /// <summary>From this loop's thread during a turn: <paramref name="output"/> sends at the turn's end.</summary>
    public void Defer(SocketOutput output)
    {
        var first = false;
        lock (_deferLock)
        {
            if (!output.IsDeferred)
            {
                if (_deferred.Count == 0)
                {
                    _firstDeferredAt = Stopwatch.GetTimestamp();
                    first = true;
                }
                output.IsDeferred = true;
                _deferred.Add(output);
            }
        }
        if (first && Volatile.Read(ref _rescuerParked) == 1)
        {
            WakeRescuer();
        }
    }

    /// <summary>
    /// Between two connections' work in a turn: sends what waits now when <see cref="SendEarlyAt"/> wait, or
    /// when the first of it has waited <see cref="MaxDeferral"/> — a slow piece of work (a
    /// request's first run compiling its code, on a busy machine) must not hold back answers made
    /// before it, such as a load balancer's heartbeat.
    /// </summary>
    private void SendIfDue()
    {
        if (_deferred.Count >= SendEarlyAt || _deferred.Count > 0 && Stopwatch.GetTimestamp() - _firstDeferredAt > MaxDeferral)
        {
            _turning = false;
            SendDeferred();
            _turning = true;
        }
    }

    /// <summary>How long flushed bytes wait at most for the rest of their turn (1 ms; a busy turn of 64 requests takes a few hundred µs).</summary>
    private static readonly long MaxDeferral = Stopwatch.Frequency / 1000;

    private long _firstDeferredAt;

    /// <summary>
    /// How long flushed bytes may wait for a turn stuck in one piece of work before another thread
    /// sends them (<see cref="Rescue"/>): 25 ms. <see cref="SendIfDue"/> only runs between pieces
    /// of work; a single slow one (code compiled on its first run, on a busy machine) would
    /// otherwise hold back answers made before it for its whole length.
    /// </summary>
    private static readonly long RescueAfter = Stopwatch.Frequency / 40;

    /// <summary>
    /// How often the rescuer looks right after it has rescued something (and at first): 25 ms, so
    /// such answers wait about 50 ms at most. Not finer: every wake-up costs CPU in every server
    /// (checked every 5 ms, an idle server of the default topology spent 10–40 ms of CPU a second
    /// more than without the batching).
    /// </summary>
    internal static readonly TimeSpan RescueCheck = TimeSpan.FromMilliseconds(25);

    /// <summary>
    /// How seldom it looks at most: each look that found nothing to rescue doubles the wait, up to
    /// this. Stuck turns come in bursts (a server's first requests compiling its code) and hardly
    /// ever once it is warm, while every look is a wake-up: 40 a second per busy server at a steady
    /// 25 ms, 3–4 ms of CPU a second in each web server of the chain (docs/web.md). The first stuck
    /// turn after a quiet spell waits up to about this long; the pair's heartbeat never waits for a
    /// loop (its own threads, Foobar.Server.Pair).
    /// </summary>
    internal static readonly TimeSpan RescueCheckMost = TimeSpan.FromMilliseconds(200);

    /// <summary>The rescuer's next wait: back to <see cref="RescueCheck"/> after a rescue, else twice the last, up to <see cref="RescueCheckMost"/>.</summary>
    internal static TimeSpan NextRescueCheck(TimeSpan last, bool rescued) =>
        rescued ? RescueCheck : TimeSpan.FromTicks(Math.Min(last.Ticks * 2, RescueCheckMost.Ticks));

    private static int _rescuer;

    private static long _rescued;

    /// <summary>How many times flushed bytes were sent by the rescuer, their turn having run past <see cref="RescueAfter"/> (for tests and diagnostics).</summary>
    public static long Rescued => Interlocked.Read(ref _rescued);

    /// <summary>Starts the thread that rescues bytes from long turns, once, when a loop gets a ring (only loops with one defer sends).</summary>
    private static void EnsureRescuer()
    {
        if (Volatile.Read(ref _rescuer) == 0 && Interlocked.Exchange(ref _rescuer, 1) == 0)
        {
            new Thread(RunRescuer) { IsBackground = true, Name = "http rescuer" }.Start();
        }
    }

    /// <summary>
    /// Checks in a row with nothing deferred on any loop before the rescuer parks (two waits, 50 to 400 ms): an idle
    /// server then has no thread waking 40 times a second. The first deferral of a turn wakes it; a
    /// server answering a few checks a second wakes it a few times each (at 200 ms, a health check
    /// every 333 ms kept it awake most of the time).
    /// </summary>
    private const int ParkAfter = 2;

    /// <summary>1 while the rescuer is parked, waiting for <see cref="RescuerWake"/>.</summary>
    private static int _rescuerParked;

    private static readonly SemaphoreSlim RescuerWake = new(0);

    /// <summary>Whether the rescuer is parked now (for tests).</summary>
    internal static bool RescuerParked => Volatile.Read(ref _rescuerParked) == 1;

    private static void WakeRescuer()
    {
        if (Interlocked.CompareExchange(ref _rescuerParked, 0, 1) == 1)
        {
            RescuerWake.Release();
        }
    }

    private static void RunRescuer()
    {
        var loops = All.Value;
        var idle = 0;
        var check = RescueCheck;
        while (true)
        {
            Thread.Sleep(check);
            var now = Stopwatch.GetTimestamp();
            var deferring = false;
            var rescuedBefore = Rescued;
            foreach (var loop in loops)
            {
                deferring |= loop.Rescue(now);
            }
            check = NextRescueCheck(check, Rescued != rescuedBefore);
            idle = deferring ? 0 : idle + 1;
            if (idle < ParkAfter)
            {
                continue;
            }
            // Parked first, then a last look under each loop's lock: a loop that deferred before
            // it is seen here; one that defers after sees the rescuer parked and wakes it.
            Interlocked.Exchange(ref _rescuerParked, 1);
            if (!loops.Any(l => l.HasDeferred()))
            {
                RescuerWake.Wait();
            }
            Volatile.Write(ref _rescuerParked, 0);
            idle = 0;
        }
    }

    private bool HasDeferred()
    {
        lock (_deferLock)
        {
            return _deferred.Count > 0;
        }
    }

    /// <summary>
    /// From the rescuer's thread: when what this loop's turn deferred has waited past
    /// <see cref="RescueAfter"/>, takes it off the loop's list and sends it from the thread pool
    /// (<see cref="SocketOutput.OnWritable"/>, as after an edge: a resumed writer continues there).
    /// </summary>
    /// <returns>Whether this loop had anything deferred (sent now or not yet due).</returns>
    private bool Rescue(long now)
    {
        if (Volatile.Read(ref _deferred).Count == 0)
        {
            return false;
        }
        List<SocketOutput> stolen;
        lock (_deferLock)
        {
            if (_deferred.Count == 0)
            {
                return false;
            }
            if (now - _firstDeferredAt < RescueAfter)
            {
                return true;
            }
            stolen = _deferred;
            _deferred = [];
            foreach (var output in stolen)
            {
                output.IsDeferred = false;
            }
        }
        Interlocked.Increment(ref _rescued);
        ThreadPool.UnsafeQueueUserWorkItem(static outputs =>
        {
            foreach (var output in outputs)
            {
                output.OnWritable();
            }
        }, stolen, preferLocal: false);
        return true;
    }

    /// <summary>The loop the next accepted connection goes to.</summary>
    public static EpollLoop Next()
    {
        var loops = All.Value;
        return loops[(int)((uint)Interlocked.Increment(ref _next) % (uint)loops.Length)];
    }

    /// <summary>Registers <paramref name="connection"/>'s socket; its events start at once (those already pending too).</summary>
    /// <returns>The key that <see cref="Remove"/> takes, also set as the connection's <see cref="EpollConnection.Key"/>.</returns>
    public long Add(EpollConnection connection, SafeSocketHandle socket)
    {
        long key;
        lock (_slotsLock)
        {
            var slot = _free.Count > 0 ? _free.Pop() : _used++;
            if (slot == _slots.Length)
            {
                var slots = new EpollConnection?[slot * 2];
                Array.Copy(_slots, slots, slot);
                Array.Resize(ref _uses, slot * 2);
                Volatile.Write(ref _slots, slots);
            }
            key = (long)(uint)++_uses[slot] << 32 | (uint)slot;
            connection.Key = key;
            Volatile.Write(ref _slots[slot], connection);
        }
        var ev = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(ev, 4), Native.EPOLLIN | Native.EPOLLOUT | Native.EPOLLRDHUP | Native.EPOLLET);
        BinaryPrimitives.WriteInt64LittleEndian(new Span<byte>(ev + Native.EpollDataOffset, 8), key);
        if (Native.EpollControl(_epoll, Native.EPOLL_CTL_ADD, socket, ev) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            Remove(key);
            throw new IOException($"epoll_ctl failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        return key;
    }

    /// <summary>Forgets a connection whose socket is about to be closed (closing it unregisters it from epoll).</summary>
    public void Remove(long key)
    {
        lock (_slotsLock)
        {
            var slot = (int)(uint)key;
            if (_slots[slot] is { } connection && connection.Key == key)
            {
                _slots[slot] = null;
                _free.Push(slot);
            }
        }
    }

    private void Run()
    {
        t_current = this;
        if (EpollTransport.BatchScheduling)
        {
            // Unprivileged and per thread; where it is refused (a seccomp profile), the loop runs as before.
            var priority = 0;
            _ = Native.SetScheduler(0, Native.SCHED_BATCH, ref priority);
        }
        _ring = LoopRing.Create(MaxBatch);
        if (_ring is not null)
        {
            EnsureRescuer();
            _messages = (Native.MessageHeader*)NativeMemory.AllocZeroed((nuint)(MaxBatch * sizeof(Native.MessageHeader)));
            _vectors = (Native.IoVector*)NativeMemory.AllocZeroed((nuint)(MaxBatch * SocketOutput.MaxVectors * sizeof(Native.IoVector)));
        }
        var events = new byte[MaxEvents * Native.EpollEventSize];
        fixed (byte* p = events)
        {
            while (true)
            {
                var count = Native.EpollWait(_epoll, p, MaxEvents, -1);
                _turning = _ring is not null;
                for (var i = 0; i < count; i++)
                {
                    var e = p + i * Native.EpollEventSize;
                    var flags = BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(e, 4));
                    var key = BinaryPrimitives.ReadInt64LittleEndian(new ReadOnlySpan<byte>(e + Native.EpollDataOffset, 8));
                    var connection = Volatile.Read(ref _slots)[(int)(uint)key];
                    if (connection is not null && connection.Key == key)
                    {
                        if (_ring is null)
                        {
                            connection.OnEvents(flags);
                        }
                        else if (connection.HandleEvents(flags))
                        {
                            _reads.Add(connection);
                        }
                        SendIfDue();
                    }
                }
                ReceiveQueued();
                RunPosted();
                _turning = false;
                SendDeferred();
                while (_posted.Count > 0)
                {
                    // Posted by a flush's continuation as the sends resumed it: run now, not after the next wait.
                    _turning = _ring is not null;
                    RunPosted();
                    _turning = false;
                    SendDeferred();
                }
                // count < 0: EINTR (a signal, a debugger); nothing else fails on a valid epoll descriptor.
            }
        }
    }

    /// <summary>
    /// At a turn's end: sends what the turn's flushes left, one <c>io_uring_enter</c> for up to
    /// <see cref="MaxBatch"/> connections; a lone one (or one whose bytes start with a file) with
    /// <c>send</c>, which costs less for one (docs/load-balancer.md, "A turn's sends in one system call"). Every output of a batch is
    /// settled before any writer's code runs again (a resumed flush continues on this thread and
    /// may write to another output of the batch).
    /// </summary>
    private void SendDeferred()
    {
        lock (_deferLock)
        {
            (_sending, _deferred) = (_deferred, _sending);
            foreach (var output in _sending)
            {
                output.IsDeferred = false;
            }
        }
        var all = _sending.Count;
        for (var start = 0; start < all; start += MaxBatch)
        {
            var end = Math.Min(all, start + MaxBatch);
            if (end - start == 1 || _ring is not { } ring)
            {
                for (var i = start; i < end; i++)
                {
                    _sending[i].OnWritable();
                }
                continue;
            }
            var queued = 0;
            for (var i = start; i < end; i++)
            {
                var output = _sending[i];
                if (output.TryQueueOn(ring, (ulong)queued, _messages + queued, _vectors + queued * SocketOutput.MaxVectors))
                {
                    _results[queued] = -Native.EAGAIN;
                    _batch[queued++] = output;
                }
                else
                {
                    _plain.Add(output);
                }
            }
            try
            {
                ring.Submit(this);
            }
            catch (IOException)
            {
                // Never expected of a working ring; the outputs go on with send, now and from now on.
                _ring = null;
            }
            for (var i = 0; i < queued; i++)
            {
                _settled[i] = _batch[i]!.RingSent(_results[i]);
            }
            for (var i = 0; i < queued; i++)
            {
                var output = _batch[i]!;
                _batch[i] = null;
                output.Resume(_settled[i].Resume, _settled[i].Shut);
            }
            foreach (var output in _plain)
            {
                output.OnWritable();
            }
            _plain.Clear();
        }
        // Flushes from the code resumed above happened outside the turn: none was deferred.
        _sending.Clear();
    }

    /// <summary>
    /// In a turn, after its events: reads the connections epoll reported readable, one
    /// <c>io_uring_enter</c> for up to <see cref="MaxBatch"/> of them (a lone one with <c>recv</c>),
    /// then hands each its bytes in turn — the application's code runs then, and what it flushes
    /// waits for <see cref="SendDeferred"/>.
    /// </summary>
    private void ReceiveQueued()
    {
        var all = _reads.Count;
        if (all == 0)
        {
            return;
        }
        try
        {
            for (var start = 0; start < all; start += MaxBatch)
            {
                var end = Math.Min(all, start + MaxBatch);
                if (end - start == 1 || _ring is not { } ring)
                {
                    for (var i = start; i < end; i++)
                    {
                        _reads[i].RequestRead();
                        SendIfDue();
                    }
                    continue;
                }
                var queued = 0;
                for (var i = start; i < end; i++)
                {
                    var connection = _reads[i];
                    if (!connection.TryBeginRingRead(out var memory, out var drain, out var socket))
                    {
                        continue;
                    }
                    var pin = memory.Pin();
                    _readBatch[queued] = new RingRead(connection, pin, memory.Length, drain);
                    _results[queued] = -Native.EAGAIN;
                    ring.QueueReceive(socket, (byte*)pin.Pointer, memory.Length, Native.MSG_DONTWAIT, (ulong)queued);
                    queued++;
                }
                try
                {
                    ring.Submit(this);
                }
                catch (IOException)
                {
                    // Never expected of a working ring; every read goes on with recv (EAGAIN below
                    // asks for no more, and the edge's bytes are read by the plain path).
                    _ring = null;
                    for (var i = 0; i < queued; i++)
                    {
                        _results[i] = -Native.EINTR;
                    }
                }
                // Each read's result is taken before any is handed on: the code it resumes may
                // send what waits (SendIfDue), through the same ring and the same results, which
                // gave later reads of the batch a send's byte count for their own — bytes lost or
                // garbage added, so Kestrel answered 408 or 400 to a pipelined request now and then.
                for (var i = 0; i < queued; i++)
                {
                    _readBatch[i] = _readBatch[i] with { Result = _results[i] };
                }
                for (var i = 0; i < queued; i++)
                {
                    var read = _readBatch[i];
                    _readBatch[i] = default;
                    read.Pin.Dispose();
                    read.Connection.EndRingRead(read.Result, read.Length, read.Drain);
                    SendIfDue();
                }
            }
        }
        finally
        {
            _reads.Clear();
        }
    }

    /// <summary>A read of the batch: its connection, its pinned room, how much, whether to drain, and once submitted its result.</summary>
    private readonly record struct RingRead(EpollConnection Connection, MemoryHandle Pin, int Length, bool Drain, int Result = 0);

    /// <inheritdoc />
    void IRingCompletions.Completed(ulong userData, int result)
    {
        if (userData < MaxBatch)
        {
            _results[userData] = result;
        }
    }
}
