using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Foobar.Db.Accounts;
using Foobar.MySql;

namespace Foobar.Db.Cluster;

/// <summary>
/// The control plane's hands on the cluster: probes and replication changes over the admin account,
/// connecting from the control plane's address. Every call is bounded by short timeouts: a dead or
/// hung server must never stall the orchestrator.
/// </summary>
public sealed class ClusterAdmin : IAsyncDisposable
{
    private readonly DbCredentials _credentials;
    private readonly IPAddress _controlAddress;
    private readonly ConcurrentDictionary<string, MySqlDataSource> _sources = new();

    public ClusterAdmin(DbCredentials credentials, IPAddress controlAddress)
    {
        _credentials = credentials;
        _controlAddress = controlAddress;
    }

    /// <summary>The mount holding the data directory (the longest path that prefixes it), sizes in KB.</summary>
    private const string DataDiskQuery =
        "SELECT @@datadir, Available, Total FROM information_schema.DISKS " +
        "WHERE @@datadir LIKE CONCAT(TRIM(TRAILING '/' FROM Path), '/%') ORDER BY LENGTH(Path) DESC LIMIT 1";

    /// <summary>Reads roles, positions, replication and semi-sync state; never throws for an unreachable server.</summary>
    public async Task<NodeStatus> ProbeAsync(DbNode node, TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenAsync(node, cancellationToken).ConfigureAwait(false);
            await using var command = new MySqlCommand(
                "SELECT @@read_only, @@gtid_current_pos, @@gtid_binlog_pos, @@rpl_semi_sync_master_enabled; SHOW SLAVE STATUS; " +
                "SHOW GLOBAL STATUS WHERE Variable_name IN ('Rpl_semi_sync_master_status', 'Rpl_semi_sync_master_clients'); " +
                DataDiskQuery, connection)
            {
                CommandTimeout = 2,
            };
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var status = new NodeStatus
            {
                Name = node.Name,
                Reachable = true,
                ReadOnly = reader.GetInt64(0) != 0,
                GtidCurrentPos = reader.GetString(1),
                GtidBinlogPos = reader.GetString(2),
                SemiSyncEnabled = reader.GetInt64(3) != 0,
            };
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                status = status with
                {
                    ReplicaOf = Text(reader, "Master_Host"),
                    IoRunning = Text(reader, "Slave_IO_Running"),
                    SqlRunning = Text(reader, "Slave_SQL_Running"),
                    GtidIoPos = Text(reader, "Gtid_IO_Pos") ?? "",
                    SecondsBehind = reader.IsDBNull(reader.GetOrdinal("Seconds_Behind_Master")) ? null
                        : Convert.ToInt64(reader.GetValue(reader.GetOrdinal("Seconds_Behind_Master")), CultureInfo.InvariantCulture),
                    LastIoError = NullIfEmpty(Text(reader, "Last_IO_Error")),
                    LastSqlError = NullIfEmpty(Text(reader, "Last_SQL_Error")),
                };
            }
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var value = reader.GetString(1);
                status = reader.GetString(0).ToUpperInvariant() switch
                {
                    "RPL_SEMI_SYNC_MASTER_STATUS" => status with { SemiSyncActive = value == "ON" },
                    _ => status with { SemiSyncClients = long.Parse(value, CultureInfo.InvariantCulture) },
                };
            }
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                status = status with
                {
                    DataPath = reader.GetString(0),
                    DiskFreeBytes = reader.GetInt64(1) * 1024,
                    DiskTotalBytes = reader.GetInt64(2) * 1024,
                };
            }
            return status with { ProbedAt = time.GetUtcNow() };
        }
        catch (Exception e) when (e is MySqlException or MySqlProtocolException or IOException or TimeoutException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return new NodeStatus { Name = node.Name, Reachable = false, Error = e.Message, ProbedAt = time.GetUtcNow() };
        }
    }

    /// <summary>
    /// Makes <paramref name="node"/> the primary: no replication of its own, writable, and with
    /// <paramref name="semiSync"/> its commits wait for a replica's acknowledgement.
    /// </summary>
    public Task MakePrimaryAsync(DbNode node, bool semiSync, CancellationToken cancellationToken) =>
        ExecuteAsync(node, $"STOP SLAVE; RESET SLAVE ALL; SET GLOBAL rpl_semi_sync_master_enabled = {(semiSync ? "ON" : "OFF")}; SET GLOBAL read_only = OFF", cancellationToken);

    /// <summary>Commits on the primary <paramref name="node"/> wait for a replica's acknowledgement from now on.</summary>
    public Task EnableSemiSyncAsync(DbNode node, CancellationToken cancellationToken) =>
        ExecuteAsync(node, "SET GLOBAL rpl_semi_sync_master_enabled = ON", cancellationToken);

    /// <summary>
    /// Makes <paramref name="node"/> a read-only replica of <paramref name="primary"/>, starting from
    /// every transaction it already has (<c>current_pos</c>): a former primary resumes where it stopped,
    /// and one holding transactions the new primary lacks fails to connect instead of diverging.
    /// </summary>
    public Task ReplicateFromAsync(DbNode node, DbNode primary, CancellationToken cancellationToken) =>
        ExecuteAsync(node,
            "SET GLOBAL read_only = ON; SET GLOBAL rpl_semi_sync_master_enabled = OFF; STOP SLAVE; " +
            $"CHANGE MASTER TO MASTER_HOST = '{primary.Address}', MASTER_PORT = {primary.Port.ToString(CultureInfo.InvariantCulture)}, " +
            $"MASTER_USER = '{DbCredentials.ReplicationUser}', MASTER_PASSWORD = '{_credentials.ReplicationPassword}', " +
            "MASTER_USE_GTID = current_pos, MASTER_CONNECT_RETRY = 1, MASTER_HEARTBEAT_PERIOD = 1; START SLAVE",
            cancellationToken);

    /// <summary>Stops taking writes (a demoted or returning primary).</summary>
    public Task SetReadOnlyAsync(DbNode node, CancellationToken cancellationToken) =>
        ExecuteAsync(node, "SET GLOBAL read_only = ON", cancellationToken);

    /// <summary>
    /// Takes writes away from a server that is no longer the primary but still writable (one that
    /// hung and woke up): clients' connections are closed, it is set read-only, and connections
    /// made meanwhile are closed too. A client's commit waiting there for a replica's
    /// acknowledgement would otherwise be acknowledged when the semi-sync timeout ends, although
    /// no replica of the new primary has it; closed, its client sees the outcome as unknown.
    /// </summary>
    public async Task FenceAsync(DbNode node, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(node, cancellationToken).ConfigureAwait(false);
        await CloseClientConnectionsAsync(connection, cancellationToken).ConfigureAwait(false);
        await using (var readOnly = new MySqlCommand("SET GLOBAL read_only = ON", connection))
        {
            await readOnly.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await CloseClientConnectionsAsync(connection, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops receiving from the primary, so the received position no longer moves.</summary>
    public Task StopReceivingAsync(DbNode node, CancellationToken cancellationToken) =>
        ExecuteAsync(node, "STOP SLAVE IO_THREAD", cancellationToken);

    /// <summary>Waits until <paramref name="node"/> has applied <paramref name="position"/>; false on timeout.</summary>
    public async Task<bool> WaitForPositionAsync(DbNode node, string position, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(node, cancellationToken).ConfigureAwait(false);
        await using var command = new MySqlCommand("SELECT MASTER_GTID_WAIT(@position, @timeout)", connection)
        {
            CommandTimeout = (int)Math.Ceiling(timeout.TotalSeconds) + 5,
        };
        command.Parameters.AddWithValue("@position", position);
        command.Parameters.AddWithValue("@timeout", timeout.TotalSeconds);
        var result = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return Convert.ToInt64(result, CultureInfo.InvariantCulture) == 0;
    }

    /// <summary>Runs SQL as the admin account (migrations, tests).</summary>
    public async Task ExecuteAsync(DbNode node, string sql, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(node, cancellationToken).ConfigureAwait(false);
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An open admin connection to <paramref name="node"/> (pooled).</summary>
    public async Task<MySqlConnection> OpenAsync(DbNode node, CancellationToken cancellationToken) =>
        await _sources.GetOrAdd(node.Name, _ => new MySqlDataSource(new MySqlConnectionStringBuilder
        {
            Server = node.Address.ToString(),
            Port = node.Port,
            UserID = DbCredentials.AdminUser,
            Password = _credentials.AdminPassword,
            LocalAddress = _controlAddress.ToString(),
            SslMode = MySqlSslMode.None,
            ConnectionTimeout = 1,
            // Writes on a primary may wait for a replica's acknowledgement up to the semi-sync timeout.
            DefaultCommandTimeout = 60,
            MaximumPoolSize = 4,
            TrackGtid = false,
        }.ConnectionString)).OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        foreach (var source in _sources.Values)
        {
            await source.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>KILL CONNECTION for every session but the server's own threads, replication and the admin account.</summary>
    private static async Task CloseClientConnectionsAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        var sessions = new List<long>();
        await using (var list = new MySqlCommand(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND COMMAND NOT IN ('Daemon', 'Binlog Dump', 'Slave_IO', 'Slave_SQL') " +
            $"AND USER NOT IN ('system user', 'event_scheduler', '{DbCredentials.AdminUser}', '{DbCredentials.ReplicationUser}')", connection))
        await using (var reader = await list.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                sessions.Add(Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture));
            }
        }
        foreach (var id in sessions)
        {
            try
            {
                await using var kill = new MySqlCommand($"KILL CONNECTION {id.ToString(CultureInfo.InvariantCulture)}", connection);
                await kill.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (MySqlException e) when (e.Number == MySqlErrorCode.UnknownThread)
            {
                // Gone by itself meanwhile.
            }
        }
    }

    private static string? Text(MySqlDataReader reader, string column)
    {
        var ordinal = reader.GetOrdinal(column);
        return reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
    }

    private static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;
}
