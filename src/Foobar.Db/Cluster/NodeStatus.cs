using Foobar.Db.Replication;

namespace Foobar.Db.Cluster;

/// <summary>What one probe of a db server found. Positions are MariaDB GTID lists (<c>0-1-42</c>).</summary>
public sealed record NodeStatus
{
    public required string Name { get; init; }

    /// <summary>Whether the probe got answers; when false only <see cref="Error"/> is meaningful.</summary>
    public bool Reachable { get; init; }

    /// <summary>Why the server could not be probed.</summary>
    public string? Error { get; init; }

    public bool ReadOnly { get; init; }

    /// <summary>Every transaction the server has, its own and replicated (<c>@@gtid_current_pos</c>).</summary>
    public string GtidCurrentPos { get; init; } = "";

    /// <summary>Transactions in its binary log (<c>@@gtid_binlog_pos</c>).</summary>
    public string GtidBinlogPos { get; init; } = "";

    /// <summary>Address of the primary it replicates from; null when it is not a replica.</summary>
    public string? ReplicaOf { get; init; }

    /// <summary><c>Slave_IO_Running</c>: Yes, Connecting or No.</summary>
    public string? IoRunning { get; init; }

    /// <summary><c>Slave_SQL_Running</c>: Yes or No.</summary>
    public string? SqlRunning { get; init; }

    /// <summary>Transactions received from the primary (<c>Gtid_IO_Pos</c>), applied or not.</summary>
    public string GtidIoPos { get; init; } = "";

    /// <summary>Replication lag; null when the replica is not replicating.</summary>
    public long? SecondsBehind { get; init; }

    public string? LastIoError { get; init; }

    public string? LastSqlError { get; init; }

    /// <summary>Whether the server is set to wait for acknowledgements as a primary (<c>@@rpl_semi_sync_master_enabled</c>).</summary>
    public bool SemiSyncEnabled { get; init; }

    /// <summary>Whether commits wait for a replica's acknowledgement now (<c>Rpl_semi_sync_master_status</c>).</summary>
    public bool SemiSyncActive { get; init; }

    /// <summary>Replicas connected with semi-sync (<c>Rpl_semi_sync_master_clients</c>).</summary>
    public long SemiSyncClients { get; init; }

    /// <summary>The server's data directory (<c>@@datadir</c>).</summary>
    public string? DataPath { get; init; }

    /// <summary>Free space on the file system holding the data directory; null when unknown.</summary>
    public long? DiskFreeBytes { get; init; }

    /// <summary>Size of the file system holding the data directory; null when unknown.</summary>
    public long? DiskTotalBytes { get; init; }

    /// <summary>When the probe finished.</summary>
    public DateTimeOffset ProbedAt { get; init; }

    /// <summary>Whether the replication connection to its primary is up.</summary>
    public bool ReplicaConnected => IoRunning == "Yes";

    public GtidPosition Current => GtidPosition.Parse(GtidCurrentPos);

    /// <summary>How far it has received: the IO position when replicating, else what it has.</summary>
    public GtidPosition Received
    {
        get
        {
            var io = GtidPosition.Parse(GtidIoPos);
            var current = Current;
            return io.Contains(current) ? io : current;
        }
    }
}
