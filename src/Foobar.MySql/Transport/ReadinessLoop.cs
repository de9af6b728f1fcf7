using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Foobar.MySql.Transport;

/// <summary>
/// The epoll instances of every <see cref="SocketStream"/> of the process; a socket keeps its
/// instance. A socket is armed one-shot only while a read or write actually waits, so a
/// connection whose answers arrive while nobody waits (the common case, see <see cref="BriefWait"/>)
/// costs nothing here — unlike the runtime's socket engine, which wakes for every packet of a
/// socket it has ever waited on and hands each wake to the thread pool. Two ways to watch them:
/// <list type="bullet">
/// <item>With <see cref="InlineCompletions"/>: one instance per processor, each with its thread,
/// on which callers continue (as the runtime sizes and runs its own).</item>
/// <item>Otherwise one instance, watched by a thread-pool work item while anything waits on it
/// (<see cref="Poller"/>): the pool thread that gets the events continues the first waiter itself
/// and queues the others, so the commonest wake costs one thread, as when the kernel wakes a C
/// client blocked in <c>recv</c>. A thread of its own would wake only to hand each event to a pool
/// thread: two wakes per answer (measured: 10 % more CPU per query and 10 % less throughput at
/// concurrency 32, docs/mysql-client.md). While the answers come few at a time, that pool thread
/// continues them all and keeps polling instead of handing the poll to another (see
/// <see cref="Poll"/>), watched by <see cref="Watchdog"/> in case a continuation blocks.</item>
/// </list>
/// </summary>
internal static class ReadinessLoop
{
    private const int MaxEvents = 64;

    /// <summary>
    /// How long the pool's poller waits for events before it gives its thread back to the pool's
    /// other work (and is queued again if anything still waits).
    /// </summary>
    private const int PollMilliseconds = 50;

    /// <summary>The most events of one wait that a poller continues on its own thread (<see cref="Poll"/>).</summary>
    private const int KeptEvents = 16;

    /// <summary>How many waits a poller keeps its thread for before it gives it back to the pool's other work.</summary>
    private const int KeptTurns = 64;

    private static readonly ConcurrentDictionary<long, ReadinessWaiter> Waiters = new();
    /// <summary>
    /// Whether a ready socket's caller continues on the loop's thread instead of the thread pool:
    /// what the application chose for the runtime's own sockets with
    /// <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c> (Foobar's servers do), followed here.
    /// Code after an await must then not block, or every connection's I/O waits for it.
    /// </summary>
    public static readonly bool InlineCompletions = Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is "1" or "true";

    private static readonly int Count = InlineCompletions ? Environment.ProcessorCount : 1;

    private static readonly Lazy<int[]> Epolls = new(() => Enumerable.Range(0, Count).Select(_ => Start()).ToArray());

    [ThreadStatic]
    private static byte[]? t_events;
    /// <summary>The number of the poller's continuation that this thread runs (<see cref="Poll"/>); 0 when none.</summary>
    [ThreadStatic]
    private static long t_continuing;
    private static int _polling;
    /// <summary>The continuation that a poller keeping its thread runs now (<see cref="Poll"/>), numbered; 0 when none.</summary>
    private static long _continuing;
    private static long _continuations;
    /// <summary>That continuation's wait: its events, the next to continue, how many.</summary>
    private static (byte[] Events, int Next, int Count) _kept;
    /// <summary>1 while a poller keeps its thread (so <see cref="Watchdog"/> keeps watching).</summary>
    private static int _keeping;
    private static long _nextKey;
    private static int _waiting;

    /// <summary>How many sockets wait on the loop now: how busy the process's database connections are.</summary>
    public static int Waiting => Volatile.Read(ref _waiting);

    /// <summary>
    /// Whether this thread runs a caller's continuation for a poller that keeps its thread
    /// (<see cref="Poll"/>): nobody watches the other sockets until it returns, so it must not
    /// linger there: a read about to wait briefly (<see cref="BriefWait"/>) or to yield
    /// (<see cref="YieldHandoff"/>) first leaves the poll (<see cref="LeavePoll"/>).
    /// </summary>
    public static bool ContinuingForPoller => t_continuing != 0;

    /// <summary>
    /// When this thread runs a continuation for a poller that keeps its thread, hands the poll to a
    /// new poller (if anything else waits on the loop) and the rest of that wait's callers to the
    /// pool, as <see cref="Watchdog"/> would two ticks later; the thread is then the pool's like any
    /// other. For a caller about to linger: a read that waits briefly or yields for its answer. Such
    /// a continuation that kept finding its answer after a yield ran its connection in lockstep with
    /// the server's thread while the other connections' answers waited for the watchdog and the
    /// other processor idled (`perf sched`, inserts at concurrency 32: a sixth of the machine idle,
    /// 10 ms waits).
    /// </summary>
    public static void LeavePoll()
    {
        var id = t_continuing;
        if (id != 0)
        {
            t_continuing = 0;
            HandOver(id);
        }
    }

    /// <summary>A key for a new waiter's events.</summary>
    public static long NewKey() => Interlocked.Increment(ref _nextKey);

    /// <summary>
    /// Roots <paramref name="waiter"/> while it waits, so its events find it. Only then: a connection
    /// its owner forgot to close, idle, stays collectable and its socket is closed by the finalizer,
    /// as with the runtime's sockets.
    /// </summary>
    public static void Track(ReadinessWaiter waiter)
    {
        Waiters[waiter.Key] = waiter;
        Interlocked.Increment(ref _waiting);
    }

    public static void Untrack(long key)
    {
        if (Waiters.TryRemove(key, out _))
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    /// <summary>Arms <paramref name="waiter"/>'s socket for one event of <paramref name="events"/>; false with the errno when the socket cannot be armed (closed).</summary>
    public static bool Arm(ReadinessWaiter waiter, uint events, bool first, out int errno)
    {
        Span<byte> epollEvent = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(epollEvent, events | LibC.EPOLLONESHOT | LibC.EPOLLRDHUP);
        BinaryPrimitives.WriteInt64LittleEndian(epollEvent[LibC.EpollDataOffset..], waiter.Key);
        try
        {
            if (LibC.EpollControl(Epolls.Value[(int)(waiter.Key % Count)], first ? LibC.EPOLL_CTL_ADD : LibC.EPOLL_CTL_MOD, waiter.Socket, ref epollEvent[0]) == 0)
            {
                errno = 0;
                if (!InlineCompletions)
                {
                    EnsurePoller();
                }
                return true;
            }
        }
        catch (ObjectDisposedException)
        {
            errno = 9; // EBADF: the socket was closed
            return false;
        }
        errno = Marshal.GetLastPInvokeError();
        return false;
    }

    private static int Start()
    {
        var epoll = LibC.EpollCreate(LibC.EPOLL_CLOEXEC);
        if (epoll < 0)
        {
            throw new IOException($"epoll_create1 failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
        if (InlineCompletions)
        {
            new Thread(() => Run(epoll)) { IsBackground = true, Name = "mysql io loop" }.Start();
        }
        return epoll;
    }

    /// <summary>An event loop's thread (<see cref="InlineCompletions"/>): every caller continues on it.</summary>
    private static void Run(int epoll)
    {
        var events = new byte[MaxEvents * LibC.EpollEventSize];
        while (true)
        {
            var count = LibC.EpollWait(epoll, ref events[0], MaxEvents, -1);
            if (count > 0)
            {
                Signal(events, count, allInline: true);
            }
            // count < 0: EINTR (a signal, a debugger); nothing else can fail on a valid epoll descriptor.
        }
    }

    /// <summary>Queues the pool's poller unless it is queued or polling already.</summary>
    private static void EnsurePoller()
    {
        if (Volatile.Read(ref _polling) == 0 && Interlocked.CompareExchange(ref _polling, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(Poller.Instance, preferLocal: false);
        }
    }

    /// <summary>
    /// The pool's poller: waits for events (up to <see cref="PollMilliseconds"/>), queues the next
    /// poller if anything else still waits, then wakes the waiters, continuing the first on this
    /// thread. A waiter armed meanwhile finds no poller and queues one (<see cref="Arm"/> tracks
    /// before it arms, and this counts after it lets go).
    /// <para>
    /// A wait that brings few events (up to <see cref="KeptEvents"/>) keeps the thread instead, for
    /// up to <see cref="KeptTurns"/> waits: the poller continues each of those callers here, one
    /// after the other, then polls again, still the poller, so callers arming meanwhile queue
    /// nothing. Handing the poll to another pool thread before each continuation woke a thread per
    /// answer while the one that had continued went idle: at concurrency 32 against a server on the
    /// same two processors a third of the client's CPU went to idle pool threads spinning in
    /// <c>sched_yield</c> (docs/mysql-client.md). More events at once are load enough to share: that
    /// wait hands over as before. A continuation that blocks (waiting synchronously for another
    /// query's answer, say) would leave every other waiter unwatched: <see cref="Watchdog"/> then
    /// queues a new poller and hands the rest of that wait's callers to the pool. A continuation
    /// about to yield for its next answer does the same itself first (<see cref="LeavePoll"/>).
    /// </para>
    /// </summary>
    private static void Poll()
    {
        var events = t_events ??= new byte[MaxEvents * LibC.EpollEventSize];
        for (var turn = 0; ; turn++)
        {
            var count = Math.Max(LibC.EpollWait(Epolls.Value[0], ref events[0], MaxEvents, PollMilliseconds), 0);
            if (count == 0 || count > KeptEvents || turn == KeptTurns)
            {
                LetGo();
                if (Waiting > count)
                {
                    EnsurePoller();
                }
                if (count > 0)
                {
                    Signal(events, count, allInline: false);
                }
                return;
            }
            if (turn == 0)
            {
                Volatile.Write(ref _keeping, 1);
                Watchdog.Start();
            }
            for (var i = 0; i < count; i++)
            {
                var id = Interlocked.Increment(ref _continuations);
                _kept = (events, i + 1, count);
                Volatile.Write(ref _continuing, id);
                t_continuing = id;
                try
                {
                    SignalOne(events, i, inline: true);
                }
                finally
                {
                    t_continuing = 0;
                }
                if (Interlocked.CompareExchange(ref _continuing, 0, id) != id)
                {
                    return; // The watchdog, or the continuation itself, handed the poll and the rest over.
                }
            }
        }
    }

    /// <summary>
    /// Wakes the waiters of <paramref name="count"/> events, the first last and on this thread; the
    /// others on it too with <paramref name="allInline"/>, else on the pool.
    /// </summary>
    private static void Signal(byte[] events, int count, bool allInline)
    {
        for (var i = count - 1; i >= 0; i--)
        {
            SignalOne(events, i, inline: allInline || i == 0);
        }
    }

    /// <summary>Wakes the waiter of event <paramref name="index"/>.</summary>
    private static void SignalOne(byte[] events, int index, bool inline) => Wake(KeyOf(events, index), inline);

    /// <summary>Wakes the waiter of <paramref name="key"/>, if it still waits. Not inlined: no waiter stays referenced from a loop's stack while it sleeps.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Wake(long key, bool inline)
    {
        if (Waiters.TryGetValue(key, out var waiter))
        {
            waiter.Signal(inline);
        }
    }

    /// <summary>The poller lets go of the poll (and stops keeping its thread): a waiter armed from now on queues a new one.</summary>
    private static void LetGo()
    {
        Volatile.Write(ref _keeping, 0);
        Volatile.Write(ref _polling, 0);
    }

    private static long KeyOf(byte[] events, int index) =>
        BinaryPrimitives.ReadInt64LittleEndian(events.AsSpan(index * LibC.EpollEventSize + LibC.EpollDataOffset));

    /// <summary>
    /// Takes the poll from continuation <paramref name="id"/> unless it returns first (or was
    /// handed over already): for <see cref="Watchdog"/>, or the continuation itself (<see cref="LeavePoll"/>).
    /// </summary>
    private static void HandOver(long id)
    {
        // The rest of its wait is read before the exchange below, which the poller's own races:
        // once the poller has won, it writes the next continuation's _kept and polls into the
        // same array. If it is still on continuation `id` after the read, the read is whole.
        var (events, next, count) = _kept;
        if (Volatile.Read(ref _continuing) != id)
        {
            return;
        }
        var rest = new long[count - next];
        for (var i = 0; i < rest.Length; i++)
        {
            rest[i] = KeyOf(events, next + i);
        }
        if (Interlocked.CompareExchange(ref _continuing, 0, id) != id)
        {
            return;
        }
        LetGo();
        foreach (var key in rest)
        {
            Wake(key, inline: false);
        }
        // A new poller only if something still waits on the loop (a waiter armed before the poller
        // let go is counted: it tracks before it arms); one armed from now on queues its own. A
        // caller leaving the poll to wait briefly on its thread usually leaves nothing waiting, and
        // a poller queued for nothing would block a pool thread in epoll_wait for nothing.
        if (Waiting > 0)
        {
            EnsurePoller();
        }
    }

    /// <summary>
    /// Watches a poller that keeps its thread (<see cref="Poll"/>): a caller's continuation still
    /// running at two ticks in a row (<see cref="TickMilliseconds"/> apart) loses the poll to a new
    /// poller on another pool thread, and the callers after it in the same wait go to the pool;
    /// its thread, when the continuation returns, goes back to the pool. Ticks only while a poller
    /// keeps its thread.
    /// </summary>
    private static class Watchdog
    {
        public const int TickMilliseconds = 10;

        private static readonly Timer Timer = new(static _ => Tick(), null, Timeout.Infinite, Timeout.Infinite);
        private static long _lastSeen;

        public static void Start() => Timer.Change(TickMilliseconds, Timeout.Infinite);

        private static void Tick()
        {
            var id = Volatile.Read(ref _continuing);
            if (id != 0 && id == _lastSeen)
            {
                HandOver(id);
            }
            _lastSeen = id;
            if (Volatile.Read(ref _keeping) == 1)
            {
                Start();
            }
        }
    }

    private sealed class Poller : IThreadPoolWorkItem
    {
        public static readonly Poller Instance = new();

        public void Execute() => Poll();
    }
}
