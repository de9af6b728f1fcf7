using System.Globalization;
using Foobar.MySql;

namespace Foobar.Data;

/// <summary>
/// Sends the application's work to the right server: writes to the primary, reads round robin to
/// replicas that are not lagging (the primary when none is), and a read that must see a session's
/// last write waits for its GTID on the replica (<c>MASTER_GTID_WAIT</c>) or goes to the primary.
/// Who is primary is discovered (the one server that is not read-only), refreshed in the
/// background and at once when a write finds the primary gone.
/// </summary>
/// <remarks>
/// A write is retried on the new primary only when it cannot have been applied: the connection
/// could not be made, or the server refused it as read-only. A write whose connection broke while
/// running has an unknown outcome and is reported, never replayed.
/// </remarks>
public sealed class DbRouter : IAsyncDisposable
{
    private readonly DataOptions _options;
    private readonly TimeProvider _time;
    private readonly MySqlDataSource[] _sources;
    private readonly NodeView[] _views;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _refresher;
    private readonly Lock _refreshLock = new();
    private Task? _refresh;
    private int _nextReplica;

    public DbRouter(DataOptions options, TimeProvider? time = null)
    {
        _options = options;
        _time = time ?? TimeProvider.System;
        _sources = options.Nodes.Select(n => new MySqlDataSource(new MySqlConnectionStringBuilder
        {
            Server = n.Address.ToString(),
            Port = n.Port,
            UserID = options.User,
            Password = options.Password,
            Database = options.Database,
            LocalAddress = options.LocalAddress?.ToString() ?? "",
            SslMode = MySqlSslMode.None,
            ConnectionTimeout = 1,
            MaximumPoolSize = options.MaximumPoolSize,
        }.ConnectionString)).ToArray();
        _views = options.Nodes.Select(_ => NodeView.Unknown).ToArray();
        _refresher = RefreshLoopAsync(_stop.Token);
    }

    /// <summary>The primary's name as last seen; null when none is known.</summary>
    public string? Primary => Array.FindIndex(_views, v => v is { Reachable: true, Writable: true }) is var i and >= 0 ? _options.Nodes[i].Name : null;

    /// <summary>Db servers that answered the last probe (primary or replica), by name.</summary>
    public IReadOnlyList<string> Reachable => _options.Nodes.Where((_, i) => _views[i].Reachable).Select(n => n.Name).ToList();

    /// <summary>Runs <paramref name="work"/> on the primary.</summary>
    /// <exception cref="DbUnavailableException">No primary accepted it within the retry window.</exception>
    public async Task<DbResult<T>> WriteAsync<T>(Func<MySqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + _options.WriteRetryWindow;
        Exception? last = null;
        while (true)
        {
            var primary = Array.FindIndex(_views, v => v is { Reachable: true, Writable: true });
            if (primary >= 0)
            {
                MySqlConnection? connection = null;
                try
                {
                    connection = await _sources[primary].OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                    var value = await work(connection, cancellationToken).ConfigureAwait(false);
                    return new DbResult<T>(value, _options.Nodes[primary].Name, connection.LastGtid);
                }
                catch (MySqlException e) when (connection is null || e.Number is MySqlErrorCode.OptionPreventsStatement or MySqlErrorCode.ReadOnlyMode)
                {
                    // Not applied: no connection, or refused as read-only (a demoted primary).
                    last = e;
                    _views[primary] = _views[primary] with { Writable = false };
                }
                finally
                {
                    if (connection is not null)
                    {
                        await connection.DisposeAsync().ConfigureAwait(false);
                    }
                }
            }
            if (_time.GetUtcNow() >= deadline)
            {
                throw new DbUnavailableException($"no primary accepted the write within {_options.WriteRetryWindow.TotalSeconds:0} s ({last?.Message ?? "none is writable"})", last);
            }
            await RefreshAsync().ConfigureAwait(false);
            if (Primary is null)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> on a replica, or the primary when no replica is usable. With
    /// <paramref name="afterGtid"/> (the GTID of the session's last write) the replica must have
    /// applied it first.
    /// </summary>
    /// <exception cref="DbUnavailableException">No server could run it.</exception>
    public async Task<DbResult<T>> ReadAsync<T>(Func<MySqlConnection, CancellationToken, Task<T>> work, string? afterGtid, CancellationToken cancellationToken)
    {
        Exception? last = null;
        foreach (var index in ReadCandidates())
        {
            MySqlConnection? connection = null;
            try
            {
                connection = await _sources[index].OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                if (afterGtid is not null && !_views[index].Writable && !await HasAppliedAsync(connection, afterGtid, cancellationToken).ConfigureAwait(false))
                {
                    continue;
                }
                return new DbResult<T>(await work(connection, cancellationToken).ConfigureAwait(false), _options.Nodes[index].Name, null);
            }
            catch (MySqlException e) when (e.IsTransient)
            {
                last = e;
            }
            finally
            {
                if (connection is not null)
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
        throw new DbUnavailableException($"no database server could serve the read ({last?.Message ?? "none reachable"})", last);
    }

    /// <summary>Replicas within the lag bound in round-robin order, then the primary.</summary>
    private IEnumerable<int> ReadCandidates()
    {
        var maxLag = (long)_options.MaxReplicaLag.TotalSeconds;
        var replicas = Enumerable.Range(0, _views.Length).Where(i => _views[i] is { Reachable: true, Writable: false, LagSeconds: { } lag } && lag <= maxLag).ToList();
        var start = replicas.Count == 0 ? 0 : (int)((uint)Interlocked.Increment(ref _nextReplica) % (uint)replicas.Count);
        for (var i = 0; i < replicas.Count; i++)
        {
            yield return replicas[(start + i) % replicas.Count];
        }
        var primary = Array.FindIndex(_views, v => v is { Reachable: true, Writable: true });
        if (primary >= 0)
        {
            yield return primary;
        }
    }

    private async Task<bool> HasAppliedAsync(MySqlConnection connection, string gtid, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand("SELECT MASTER_GTID_WAIT(@gtid, @timeout)", connection);
        command.Parameters.AddWithValue("@gtid", gtid);
        command.Parameters.AddWithValue("@timeout", _options.CausalWait.TotalSeconds);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture) == 0;
    }

    /// <summary>
    /// Told that the primary changed (the control plane says so after a failover or switchover):
    /// probes every server in a refresh that starts after this call, and returns the primary
    /// then seen. The news is a hint; what the servers answer decides.
    /// </summary>
    public async Task<string?> PrimaryChangedAsync()
    {
        // A refresh already running may have probed before the change; wait it out, then start one.
        await RefreshAsync().ConfigureAwait(false);
        await RefreshAsync().ConfigureAwait(false);
        return Primary;
    }

    /// <summary>Probes every server now; concurrent callers share one refresh.</summary>
    public Task RefreshAsync()
    {
        lock (_refreshLock)
        {
            if (_refresh is null || _refresh.IsCompleted)
            {
                _refresh = Task.WhenAll(Enumerable.Range(0, _sources.Length).Select(ProbeAsync));
            }
            return _refresh;
        }
    }

    private async Task ProbeAsync(int index)
    {
        try
        {
            await using var connection = await _sources[index].OpenConnectionAsync(_stop.Token).ConfigureAwait(false);
            await using var command = new MySqlCommand("SELECT @@read_only; SHOW SLAVE STATUS", connection) { CommandTimeout = 2 };
            await using var reader = await command.ExecuteReaderAsync(_stop.Token).ConfigureAwait(false);
            await reader.ReadAsync(_stop.Token).ConfigureAwait(false);
            var writable = reader.GetInt64(0) == 0;
            long? lag = null;
            if (await reader.NextResultAsync(_stop.Token).ConfigureAwait(false) && await reader.ReadAsync(_stop.Token).ConfigureAwait(false))
            {
                var ordinal = reader.GetOrdinal("Seconds_Behind_Master");
                lag = reader.IsDBNull(ordinal) ? null : Convert.ToInt64(reader.GetValue(ordinal), CultureInfo.InvariantCulture);
            }
            _views[index] = new NodeView(true, writable, lag);
        }
        catch (Exception e) when (e is MySqlException or MySqlProtocolException or IOException or OperationCanceledException)
        {
            _views[index] = NodeView.Unknown;
        }
    }

    private async Task RefreshLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.RefreshInterval, _time);
        try
        {
            do
            {
                await RefreshAsync().ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _refresher.ConfigureAwait(false);
        foreach (var source in _sources)
        {
            await source.DisposeAsync().ConfigureAwait(false);
        }
        _stop.Dispose();
    }
}
