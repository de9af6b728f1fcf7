namespace Foobar.MySql.Transport;

/// <summary>
/// Whether a read right after a command, finding no answer yet, first gives its processor away once
/// (<c>sched_yield</c>) and tries again before it waits on <see cref="ReadinessLoop"/>. A database
/// on the same machine, woken by the command, is often runnable on this very processor, behind the
/// caller: the yield lets it answer at once, and the read then costs one more <c>recv</c> instead
/// of an <c>epoll_ctl</c>, the poller's wake-up and a hop to another thread. That is the hand-off
/// a C client blocked in <c>recv</c> gets from the kernel for free. A database elsewhere (another
/// host, or a processor of its own) does not answer within a yield, so each connection keeps
/// score (<see cref="Payoff"/>) and stops yielding where it does not pay.
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
    /// <summary>The most credit a connection builds up (<see cref="Payoff.MaxCredit"/>).</summary>
    public const int MaxCredit = Payoff.MaxCredit;

    /// <summary>What a yield that the answer did not follow costs (<see cref="Payoff.Penalty"/>).</summary>
    public const int Penalty = Payoff.Penalty;

    /// <summary>With no credit, one read in this many yields all the same: a probe (<see cref="Payoff.ProbeEvery"/>).</summary>
    public const int ProbeEvery = Payoff.ProbeEvery;

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

    private Payoff _payoff;
    private int _run;

    public YieldHandoff() => _payoff = new();

    /// <summary>Whether to yield now (then <see cref="Record"/> follows).</summary>
    public bool ShouldYield()
    {
        if (!_payoff.ShouldTry())
        {
            return false;
        }
        if (_payoff.HasCredit && ++_run >= MaxRun)
        {
            _run = 0;
            return false;
        }
        return true;
    }

    /// <summary>How the yield went: whether the answer was there after it.</summary>
    public void Record(bool answered)
    {
        _payoff.Record(answered);
        if (!answered)
        {
            _run = 0;
        }
    }
}
