namespace Foobar.Db.Orchestration;

/// <summary>How the orchestrator watches the cluster and when it acts.</summary>
public sealed record OrchestratorOptions
{
    /// <summary>Time between probes of every db server. Default 250 ms.</summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Consecutive failed probes of the primary before it may be declared dead. Default 2.</summary>
    public int FailedProbesBeforeFailover { get; init; } = 2;

    /// <summary>No second automatic failover within this time after one. Default 1 min.</summary>
    public TimeSpan FailoverBlock { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a primary not seen answering since the orchestrator started gets to start before a
    /// failover: at <c>foobar up</c> every db server starts at once, and a primary whose InnoDB
    /// recovery takes longer than its replica's start is not dead. Default 30 s.
    /// </summary>
    public TimeSpan StartupGrace { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Free space each server's data directory should keep; below it, an alert. Default 1 GB.</summary>
    public long DiskReserve { get; init; } = 1L << 30;

    /// <summary>How long a promoted replica may take to apply what it received. Default 10 s.</summary>
    public TimeSpan ApplyTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
