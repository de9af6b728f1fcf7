namespace Foobar.MySql.Transport;

/// <summary>
/// When the thread pool has nothing else to do, a read that would wait may first block its own
/// thread for a short while (<see cref="SocketStream"/>): a database on the same machine or network
/// usually answers within it, and the kernel then wakes this very thread, as it wakes a C client
/// blocked in <c>recv</c> — instead of waking an event loop that wakes a pool thread. Only while
/// the process is quiet: no more reads waiting, briefly or on <see cref="ReadinessLoop"/>, than
/// processors (so never on a single processor, where the server needs the one), and no work queued
/// for the pool. Under load a server's answers take longer and the pool's threads are needed; then
/// every wait is on the loop. Never when the application chose inline completions
/// (<see cref="ReadinessLoop.InlineCompletions"/>), though such a read may still spin while nothing
/// else waits (<see cref="MaySpinOnLoop()"/>). A caller running for the pool's poller leaves
/// the poll first (<see cref="ReadinessLoop.LeavePoll"/>), so a few clients at a time each wait on
/// their own thread instead of taking turns on the poller's.
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

    /// <summary>
    /// How many reads may wait on their own threads at once: one per processor. Half the processors
    /// before, and a read that had once waited on the loop continued on the poller, whose thread may
    /// not block, so its next read waited on the loop again: two clients at a time ran at half the
    /// rate of two blocking ones (<c>SELECT 1</c> against MariaDB on the same 2 processors:
    /// 23,000–29,000 queries a second against 49,000–61,000 with this, docs/mysql-client.md).
    /// </summary>
    internal static readonly int Limit = Environment.ProcessorCount > 1 ? Environment.ProcessorCount : 0;

    /// <summary>How many of them may spin at once (<see cref="SpinMicroseconds"/>): half the processors, so the server keeps the rest.</summary>
    internal static readonly int SpinLimit = Environment.ProcessorCount / 2;

    private static int _waiting;
    private static int _spinning;

    /// <summary>Whether this thread may wait now; if so, <see cref="End"/> follows the wait.</summary>
    public static bool TryBegin()
    {
        if (ReadinessLoop.InlineCompletions)
        {
            // Then callers may be on an event loop (ours, or the runtime's running Kestrel's
            // requests), which must never block.
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
        // The pool's poller must never block: a caller it runs hands the poll to another thread first.
        ReadinessLoop.LeavePoll();
        return true;
    }

    /// <summary>
    /// Whether a read right after a write, whose caller may be an event loop
    /// (<see cref="ReadinessLoop.InlineCompletions"/>: it never blocks), may still spin for its
    /// answer (<see cref="SpinMicroseconds"/>): only while no other read waits, on the loop or on a
    /// thread, so the loop has nothing else to do meanwhile; the spin stops as soon as something
    /// starts waiting on the loop. One client at a time (bench/mysql-client.sh's inline column,
    /// alternating 3 pairs with and without): <c>SELECT 1</c> 2.5x, a single-row insert 2.1x, a
    /// 100-row select 1.3x queries a second; 32 at a time never spin.
    /// </summary>
    public static bool MaySpinOnLoop() => MaySpinOnLoop(ReadinessLoop.InlineCompletions, ReadinessLoop.Waiting, Waiting);

    /// <summary>The rule of <see cref="MaySpinOnLoop()"/>, for tests: the application's choice and how many reads wait on the loop and on threads.</summary>
    internal static bool MaySpinOnLoop(bool inlineCompletions, int waitingOnLoop, int waitingOnThreads) =>
        inlineCompletions && waitingOnLoop == 0 && waitingOnThreads == 0;

    /// <summary>Whether a read that may wait briefly may also spin now (<see cref="SpinLimit"/>); if so, <see cref="EndSpin"/> follows.</summary>
    public static bool TryBeginSpin()
    {
        if (Interlocked.Increment(ref _spinning) > SpinLimit)
        {
            Interlocked.Decrement(ref _spinning);
            return false;
        }
        return true;
    }

    public static void EndSpin() => Interlocked.Decrement(ref _spinning);

    /// <summary>
    /// How many reads on a thread that found the process busy skip the check after it and go to
    /// the loop: counting the pool's queued work visits every thread's queue, which under load (where
    /// the answer is always "busy") was about 1 % of the client's CPU (perf, <c>SELECT 1</c> at
    /// concurrency 32). A process that turns quiet takes this many reads per thread to notice.
    /// </summary>
    private const int BusyFor = 16;

    [ThreadStatic]
    private static int t_busyFor;

    /// <summary>Forgets that this thread found the process busy lately (for tests: the next check is made).</summary>
    internal static void ForgetBusy() => t_busyFor = 0;

    /// <summary>
    /// Counts a read that blocks its thread without a brief wait (a synchronous one that may not
    /// spin) as waiting, so that other reads see the process busy; <see cref="End"/> follows.
    /// </summary>
    public static void Begin() => Interlocked.Increment(ref _waiting);

    public static void End() => Interlocked.Decrement(ref _waiting);

    /// <summary>Reads waiting on their own threads now, briefly or blocked (for tests).</summary>
    internal static int Waiting => Volatile.Read(ref _waiting);
}
