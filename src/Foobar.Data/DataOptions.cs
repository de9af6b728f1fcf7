using System.Net;

namespace Foobar.Data;

/// <summary>One database server the application may use.</summary>
public sealed record DataNode(string Name, IPAddress Address, int Port);

/// <summary>How the application reaches the cluster.</summary>
public sealed record DataOptions
{
    /// <summary>Every db server; which is the primary is discovered, not configured.</summary>
    public required IReadOnlyList<DataNode> Nodes { get; init; }

    public required string User { get; init; }

    public required string Password { get; init; }

    /// <summary>The application's schema.</summary>
    public required string Database { get; init; }

    /// <summary>The address connections are made from (accounts are limited by address); null lets the kernel choose.</summary>
    public IPAddress? LocalAddress { get; init; }

    /// <summary>Replicas further behind serve no reads. Default 5 s.</summary>
    public TimeSpan MaxReplicaLag { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Time between background refreshes of who is primary and how far behind each replica is. Default 500 ms.</summary>
    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a read that must see a session's last write waits on a replica before going to the primary. Default 200 ms.</summary>
    public TimeSpan CausalWait { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long a write keeps looking for a primary during a failover. Default 10 s.</summary>
    public TimeSpan WriteRetryWindow { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Connection pool size per server. Default 50.</summary>
    public int MaximumPoolSize { get; init; } = 50;
}
