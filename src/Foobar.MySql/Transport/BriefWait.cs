namespace Foobar.MySql.Transport;

/// <summary>
/// When the thread pool has nothing else to do, a read that would wait may first block its own
/// thread for a short while (<see cref="SocketStream"/>): a database on the same machine or network
/// usually answers within it, and the kernel then wakes this very thread, as it wakes a C client
/// blocked in <c>recv</c> — instead of waking an event loop that wakes a pool thread. Only while
/// the process is quiet: fewer reads waiting, briefly or on <see cref="ReadinessLoop"/>, than half
/// the processors (so never on a single processor), and no work queued for the pool. Under load a
/// server's answers take longer and the pool's threads are needed; then every wait is on the loop.
/// Never when the application chose inline completions (<see cref="ReadinessLoop.InlineCompletions"/>).
/// </summary>
internal static class BriefWait
{
    /// <summary>
    /// The longest such wait: one tick of the kernel's clock, to which <c>SO_RCVTIMEO</c> rounds
    /// (1 ms asked; 4 to 8 ms with the usual 250 Hz). A timed <c>poll</c> would bound it finer, but
    /// arms a high-resolution timer per call, which cost about a sixth of the rate of
    /// <c>SELECT 1</c> in a virtual machine here.
    /// </summary>
    public const int Milliseconds = 1;

    /// <summary>
    /// How long such a read first spins — non-blocking <c>recv</c> after non-blocking <c>recv</c> —
    /// before it blocks, while spinning pays on its connection (<see cref="Payoff"/>): with a
    /// processor to spare (which a quiet process has), an answer that comes within the spin finds
    /// this thread running, so the server's <c>send</c> wakes no one and the answer is read at once,
    /// where a blocked thread costs the server a wake-up and the client a trip through the
    /// scheduler — in a virtual machine, an interrupt between processors each. About twice what a
    /// <c>SELECT 1</c> or a single-row insert takes on the same machine; a server farther away or a
    /// longer query runs the spin out, and a few misses stop the connection spinning.
    /// </summary>
    /// <remarks>
    /// Measured (bench/Foobar.MySql.Bench against MariaDB on the same 2 processors, one client,
    /// alternating 6 pairs of runs with and without): <c>SELECT 1</c> +23 %, a single-row insert
    /// +25 %, a 100-row select +9 % queries a second; the client's CPU per query rises to what the
    /// whole round trip takes (it spins through the server's part).
    /// </remarks>
    public const int SpinMicroseconds = 50;

    private static readonly int Limit = Environment.ProcessorCount / 2;
    private static int _waiting;

    /// <summary>Whether this thread may wait now; if so, <see cref="End"/> follows the wait.</summary>
    public static bool TryBegin()
    {
        if (ReadinessLoop.InlineCompletions || ReadinessLoop.ContinuingForPoller)
        {
            // Then callers may be on an event loop (ours, or the runtime's running Kestrel's
            // requests), or on the pool's poller, which must never block.
            return false;
        }
        if (t_busyFor > 0)
        {
            t_busyFor--;
            return false;
        }
        if (Interlocked.Increment(ref _waiting) + ReadinessLoop.Waiting > Limit || ThreadPool.PendingWorkItemCount > 0)
        {
            Interlocked.Decrement(ref _waiting);
            t_busyFor = BusyFor;
            return false;
        }
        return true;
    }

    /// <summary>
    /// How many reads on a thread that found the process busy skip the check after it and go to
    /// the loop: counting the pool's queued work visits every thread's queue, which under load (where
    /// the answer is always "busy") was about 1 % of the client's CPU (perf, <c>SELECT 1</c> at
    /// concurrency 32). A process that turns quiet takes this many reads per thread to notice.
    /// </summary>
    private const int BusyFor = 16;

    [ThreadStatic]
    private static int t_busyFor;

    /// <summary>
    /// Counts a read that blocks its thread without a brief wait (a synchronous one that may not
    /// spin) as waiting, so that other reads see the process busy; <see cref="End"/> follows.
    /// </summary>
    public static void Begin() => Interlocked.Increment(ref _waiting);

    public static void End() => Interlocked.Decrement(ref _waiting);

    /// <summary>Reads waiting on their own threads now, briefly or blocked (for tests).</summary>
    internal static int Waiting => Volatile.Read(ref _waiting);
}
