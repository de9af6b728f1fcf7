using System.Buffers;

namespace Foobar.Http.Transport;

/// <summary>
/// Whether Foobar's HTTP servers and their connections to backends run on <see cref="EpollLoop"/>
/// instead of the runtime's socket engine: on Linux x86-64 and arm64 unless
/// <c>FOOBAR_TRANSPORT=sockets</c> asks for Kestrel's own socket transport.
/// </summary>
/// <remarks>
/// Measured (docs/load-balancer.md, "Its own transport"): a proxied request costs 2 <c>recv</c>
/// and 2 <c>send</c> calls as with nginx, against 4 and 2 with the runtime's engine, which tries
/// every read before waiting for readiness.
/// </remarks>
public static class EpollTransport
{
    /// <summary>Whether the epoll transport is used in this process.</summary>
    public static bool Enabled { get; } = Native.IsSupported && Environment.GetEnvironmentVariable("FOOBAR_TRANSPORT") != "sockets";

    /// <summary>
    /// Whether the event loops' threads run as <c>SCHED_BATCH</c> (the default): a loop woken by
    /// a packet then waits for the running thread's turn to end instead of preempting it, and
    /// finds more events when it runs — fewer context switches on a busy machine, and a little more
    /// latency when no processor is free (docs/web.md, "Event loops as batch threads").
    /// <c>FOOBAR_LOOP_SCHEDULING=normal</c> keeps the normal policy.
    /// </summary>
    public static bool BatchScheduling { get; } = Environment.GetEnvironmentVariable("FOOBAR_LOOP_SCHEDULING") != "normal";

    /// <summary>How many event loops serve this process's connections: one per processor unless <see cref="UseLoops"/> said otherwise before the first.</summary>
    public static int Loops { get; private set; } = Environment.ProcessorCount;

    /// <summary>Sets <see cref="Loops"/>; only before the transport has started its loops.</summary>
    /// <param name="count">1 or more.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is below 1.</exception>
    /// <exception cref="InvalidOperationException">The loops run already, with another count.</exception>
    public static void UseLoops(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (count != Loops && EpollLoop.Started)
        {
            throw new InvalidOperationException($"the transport's {Loops} event loops run already; set their number before the first connection");
        }
        Loops = count;
    }

    /// <summary>The buffers of connections to backends (Kestrel's listeners use the pool Kestrel gives the transport).</summary>
    internal static MemoryPool<byte> Pool { get; } = MemoryPool<byte>.Shared;
}
