using System.Globalization;
using System.Net;

namespace Foobar.Db;

/// <summary>The mariadbd options every member of a Foobar cluster runs with.</summary>
public static class ReplicationArguments
{
    /// <summary>
    /// How long a replica waits without data or heartbeat from its primary before it reconnects.
    /// The orchestrator counts a replica whose connection is down as a witness that the primary
    /// is gone, so this bounds failover after a primary that hangs instead of dying.
    /// </summary>
    public const int ReplicaNetTimeoutSeconds = 4;

    /// <summary>
    /// GTID replication in ROW format with every change logged (<c>log_slave_updates</c>), so any
    /// member can become the primary; binlog and InnoDB flushed at each commit; semi-synchronous
    /// replication waiting after the binlog sync (<c>AFTER_SYNC</c>), so a commit is acknowledged
    /// only once a replica has it; and <c>read_only</c> at start: only the orchestrator makes a
    /// server writable, so a restarted old primary can never take writes on its own.
    /// </summary>
    /// <param name="reportHost">The server's address, as replicas report it.</param>
    /// <param name="semiSyncTimeout">How long a commit waits for a replica's acknowledgement.</param>
    /// <param name="initFile">The account script.</param>
    /// <param name="recoverAsReplica">
    /// Whether another server has become the primary since this one last ran. Only then does crash
    /// recovery drop binlog transactions that InnoDB had prepared but not committed
    /// (<c>init_rpl_role=SLAVE</c>): the primary was killed while waiting for a replica's
    /// acknowledgement, so no client saw them succeed, and the new primary has every write that
    /// was acknowledged. A server that is still the primary (or the only one) must keep them:
    /// with binlog group commit an acknowledged commit can still be "prepared" in InnoDB after a
    /// crash, and dropping it would lose it.
    /// </param>
    public static IReadOnlyList<string> For(IPAddress reportHost, TimeSpan semiSyncTimeout, string initFile, bool recoverAsReplica) =>
    [
        "--log-bin=binlog", "--relay-log=relay", "--binlog-format=ROW", "--log-slave-updates=ON",
        "--gtid-strict-mode=ON", "--sync-binlog=1", "--innodb-flush-log-at-trx-commit=1",
        "--read-only=ON",
        recoverAsReplica ? "--init-rpl-role=SLAVE" : "--init-rpl-role=MASTER",
        "--rpl-semi-sync-slave-enabled=ON", "--rpl-semi-sync-master-wait-point=AFTER_SYNC",
        "--rpl-semi-sync-master-timeout=" + ((long)semiSyncTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
        "--slave-net-timeout=" + ReplicaNetTimeoutSeconds.ToString(CultureInfo.InvariantCulture),
        $"--report-host={reportHost}",
        $"--init-file={initFile}",
    ];
}
