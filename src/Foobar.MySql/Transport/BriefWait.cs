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

    public static void End() => Interlocked.Decrement(ref _waiting);
}
