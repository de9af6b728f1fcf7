namespace Foobar.MySql.Transport;

/// <summary>
/// Whether a read right after a command, finding no answer yet, first gives its processor away once
/// (<c>sched_yield</c>) and tries again before it waits on <see cref="ReadinessLoop"/>. A database
/// on the same machine, woken by the command, is often runnable on this very processor, behind the
/// caller: the yield lets it answer at once, and the read then costs one more <c>recv</c> instead
/// of an <c>epoll_ctl</c>, the poller's wake-up and a hop to another thread. That is the hand-off
/// a C client blocked in <c>recv</c> gets from the kernel for free. A database elsewhere (another
/// host, or a processor of its own) does not answer within a yield, so each connection keeps
/// score: every yield the answer followed earns a credit (up to <see cref="MaxCredit"/>), every one
/// it did not costs <see cref="Penalty"/>; with no credit left the connection stops yielding and
/// tries again once every <see cref="ProbeEvery"/> reads, in case the server's load changed.
/// </summary>
/// <remarks>
/// Measured in bench/mysql-client.sh's setup (<c>SELECT 1</c>, 32 clients, 2 processors, MariaDB on
/// the same machine), alternating builds: 2–17 % more queries a second and 8–21 % less client CPU
/// per query, with the runtime's defaults and with inline completions alike (docs/mysql-client.md).
/// A yield with nothing else runnable on the processor returns at once; one that lets other threads
/// run delays the caller by their turn, as any wait for the answer would.
/// </remarks>
internal struct YieldHandoff
{
    /// <summary>The most credit a connection builds up: from it, <c>MaxCredit / Penalty</c> (4) unanswered yields in a row stop it.</summary>
    public const int MaxCredit = 8;

    /// <summary>What a yield that the answer did not follow costs.</summary>
    public const int Penalty = 2;

    /// <summary>With no credit, one read in this many yields all the same: a probe.</summary>
    public const int ProbeEvery = 64;

    /// <summary>
    /// Answered yields in a row after which one read waits on <see cref="ReadinessLoop"/> all the
    /// same: a connection that keeps finding its answer after a yield runs in lockstep with its
    /// server thread and would keep its pool thread for as long as it sends commands, while other
    /// connections' answers wait for a thread. Measured (bench/Foobar.MySql.Bench, <c>SELECT 1</c> at
    /// concurrency 32, 5 alternating rounds): without the bound the first of the 32 clients was done
    /// 5–16 % into the run and the pool had grown to 11 threads after 8 s (the rest waiting on a
    /// thread looked like starvation to it); with it 28–51 % and 7 threads, at the same rate.
    /// </summary>
    public const int MaxRun = 8;

    private int _credit;
    private int _skipped;
    private int _run;

    /// <summary>A connection starts with some credit: its first answers tell whether its server is close.</summary>
    public YieldHandoff() => _credit = MaxCredit / 2;

    /// <summary>Whether to yield now (then <see cref="Record"/> follows).</summary>
    public bool ShouldYield()
    {
        if (_credit > 0)
        {
            if (++_run < MaxRun)
            {
                return true;
            }
            _run = 0;
            return false;
        }
        if (++_skipped < ProbeEvery)
        {
            return false;
        }
        _skipped = 0;
        return true;
    }

    /// <summary>How the yield went: whether the answer was there after it.</summary>
    public void Record(bool answered)
    {
        _credit = answered ? Math.Min(_credit + 1, MaxCredit) : Math.Max(_credit - Penalty, 0);
        if (!answered)
        {
            _run = 0;
        }
    }
}
