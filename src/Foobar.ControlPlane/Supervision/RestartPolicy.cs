namespace Foobar.ControlPlane.Supervision;

/// <summary>
/// When a crashed server is started again: after <see cref="InitialDelay"/>, doubling with every
/// crash in a row up to <see cref="MaxDelay"/>; a run longer than <see cref="StableAfter"/> ends
/// the row. A server that crashes at start-up so backs off instead of spinning the CPU.
/// </summary>
public sealed record RestartPolicy
{
    /// <summary>Delay after the first crash. Default 1 s: a transient crash costs a second.</summary>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest delay. Default 30 s, so a fixed cause is picked up within half a minute.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Uptime after which a crash counts as the first of a new row. Default 30 s.</summary>
    public TimeSpan StableAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a running server may fail to answer its health check before it is killed and
    /// restarted as if it had crashed. Default 10 s: ten missed checks, long enough to ride out a
    /// GC pause or a loaded machine, short enough that a hung server does not linger.
    /// </summary>
    public TimeSpan UnresponsiveAfter { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a starting server may take to pass its first health check. Default 60 s.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The delay before restarting after the <paramref name="crashesInARow"/>-th crash in a row (from 1).</summary>
    public TimeSpan DelayFor(int crashesInARow)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(crashesInARow, 1);
        var factor = Math.Pow(2, Math.Min(crashesInARow - 1, 30));
        var delay = InitialDelay * factor;
        return delay < MaxDelay ? delay : MaxDelay;
    }

    /// <summary>The crash count after a crash that ended a run of <paramref name="uptime"/>.</summary>
    public int NextCount(int crashesInARow, TimeSpan uptime) => uptime >= StableAfter ? 1 : crashesInARow + 1;
}
