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
/// concurrency 32, docs/mysql-client.md).</item>
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
    private static int _polling;
    private static long _nextKey;
    private static int _waiting;

    /// <summary>How many sockets wait on the loop now: how busy the process's database connections are.</summary>
    public static int Waiting => Volatile.Read(ref _waiting);

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
    /// One turn of the pool's poller: waits for events (up to <see cref="PollMilliseconds"/>), queues
    /// the next turn if anything else still waits, then wakes the waiters, continuing the first on
    /// this thread. A waiter armed meanwhile finds no poller and queues one (<see cref="Arm"/>
    /// tracks before it arms, and this counts after it lets go).
    /// </summary>
    private static void Poll()
    {
        var events = t_events ??= new byte[MaxEvents * LibC.EpollEventSize];
        var count = Math.Max(LibC.EpollWait(Epolls.Value[0], ref events[0], MaxEvents, PollMilliseconds), 0);
        Volatile.Write(ref _polling, 0);
        if (Waiting > count)
        {
            EnsurePoller();
        }
        if (count > 0)
        {
            Signal(events, count, allInline: false);
        }
    }

    /// <summary>
    /// Wakes the waiters of <paramref name="count"/> events, the first last and on this thread; the
    /// others on it too with <paramref name="allInline"/>, else on the pool. Not inlined: no waiter
    /// stays referenced from a loop's stack while it sleeps.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Signal(byte[] events, int count, bool allInline)
    {
        for (var i = count - 1; i >= 0; i--)
        {
            var key = BinaryPrimitives.ReadInt64LittleEndian(events.AsSpan(i * LibC.EpollEventSize + LibC.EpollDataOffset));
            if (Waiters.TryGetValue(key, out var waiter))
            {
                waiter.Signal(inline: allInline || i == 0);
            }
        }
    }

    private sealed class Poller : IThreadPoolWorkItem
    {
        public static readonly Poller Instance = new();

        public void Execute() => Poll();
    }
}
