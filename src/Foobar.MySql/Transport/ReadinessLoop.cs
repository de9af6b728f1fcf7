using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Foobar.MySql.Transport;

/// <summary>
/// Epoll instances, each with its thread, for every <see cref="SocketStream"/> of the process: one,
/// or one per processor with <see cref="InlineCompletions"/>; a socket keeps its loop. A socket
/// is armed one-shot only while a read or write actually waits, so a connection whose answers
/// arrive while nobody waits (the common case, see <see cref="BriefWait"/>) costs this thread
/// nothing — unlike the runtime's socket engine, which wakes for every packet of a socket it has
/// ever waited on and hands each wake to the thread pool.
/// </summary>
internal static class ReadinessLoop
{
    private const int MaxEvents = 64;

    private static readonly ConcurrentDictionary<long, ReadinessWaiter> Waiters = new();
    /// <summary>
    /// Whether a ready socket's caller continues on the loop's thread instead of the thread pool:
    /// what the application chose for the runtime's own sockets with
    /// <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c> (Foobar's servers do), followed here.
    /// Code after an await must then not block, or every connection's I/O waits for it.
    /// </summary>
    public static readonly bool InlineCompletions = Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is "1" or "true";

    /// <summary>One loop when it only hands sockets to the pool; one per processor when callers continue on it (as the runtime sizes its own).</summary>
    private static readonly int Count = InlineCompletions ? Environment.ProcessorCount : 1;

    private static readonly Lazy<int[]> Epolls = new(() => Enumerable.Range(0, Count).Select(_ => Start()).ToArray());

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
        new Thread(() => Run(epoll)) { IsBackground = true, Name = "Foobar.MySql I/O" }.Start();
        return epoll;
    }

    private static void Run(int epoll)
    {
        var events = new byte[MaxEvents * LibC.EpollEventSize];
        while (true)
        {
            var count = LibC.EpollWait(epoll, ref events[0], MaxEvents, -1);
            if (count > 0)
            {
                Signal(events, count);
            }
            // count < 0: EINTR (a signal, a debugger); nothing else can fail on a valid epoll descriptor.
        }
    }

    /// <summary>Wakes the waiters of <paramref name="count"/> events. Not inlined: no waiter stays referenced from the loop's stack while it sleeps.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Signal(byte[] events, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var key = BinaryPrimitives.ReadInt64LittleEndian(events.AsSpan(i * LibC.EpollEventSize + LibC.EpollDataOffset));
            if (Waiters.TryGetValue(key, out var waiter))
            {
                waiter.Signal();
            }
        }
    }
}
