using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Foobar.MySql.Core;

/// <summary>
/// Open sessions for one connection string: at most Maximum Pool Size in use, idle ones reused
/// newest first, reset before their next use, and never a broken one handed out again.
/// </summary>
/// <remarks>
/// The reset of a returned session (COM_RESET_CONNECTION) is deferred, and goes out in one write
/// with the session's next command (<see cref="ServerSession.TryDeferReset"/>): a rented
/// connection costs no round trip of its own, where a reset on return cost one (two with GTID
/// tracking, which the reset turns off). A session returned inside a transaction is reset at once,
/// so its locks do not wait in the pool. Named locks and LOCK TABLES a user leaves are released at
/// the session's next use, or when it is closed after its idle timeout (as MySqlConnector, which
/// resets when a session is taken from its pool). A maintenance pass that reset idle sessions
/// took them out of the pool meanwhile: a rent then opened a new connection, and a pass running
/// at the same time could not close them.
/// </remarks>
internal sealed class ConnectionPool : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<string, ConnectionPool> Pools = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<ConnectionPool, bool> Live = new();
    private static readonly Meter Meter = new("Foobar.MySql", "1.0");
    private static readonly Counter<long> Timeouts = Meter.CreateCounter<long>("db.client.connection.timeouts", "{timeout}", "Times a connection could not be had from the pool in time");
    private static readonly Histogram<double> CreateTime = Meter.CreateHistogram<double>("db.client.connection.create_time", "s", "Time to open a new connection");

    static ConnectionPool()
    {
        Meter.CreateObservableUpDownCounter("db.client.connection.count", ObserveCounts, "{connection}", "Connections of each pool by state");
        Meter.CreateObservableUpDownCounter("db.client.connection.max", () => Live.Keys.Select(p => new Measurement<int>(p.Settings.MaximumPoolSize, p.PoolTag)), "{connection}", "Maximum pool size");
    }

    private readonly Stack<ServerSession> _idle = new();
    private readonly SemaphoreSlim _slots;
    private readonly TimeProvider _timeProvider;
    private readonly ITimer _reaper;
    private int _inUse;
    private bool _disposed;

    public ConnectionPool(MySqlConnectionStringBuilder settings, TimeProvider timeProvider)
    {
        Settings = settings;
        _timeProvider = timeProvider;
        _slots = new SemaphoreSlim(settings.MaximumPoolSize, settings.MaximumPoolSize);
        PoolTag = new KeyValuePair<string, object?>("db.client.connection.pool.name", $"{settings.Server}:{settings.Port}/{settings.UserID}");
        // Idle connections are checked every half idle timeout, between 1 and 30 s.
        var period = TimeSpan.FromSeconds(Math.Clamp(settings.ConnectionIdleTimeout / 2, 1, 30));
        _reaper = timeProvider.CreateTimer(_ => _ = MaintainAsync(), null, period, period);
        Live[this] = true;
    }

    public MySqlConnectionStringBuilder Settings { get; }

    public int IdleCount
    {
        get
        {
            lock (_idle)
            {
                return _idle.Count;
            }
        }
    }

    public int InUseCount => Volatile.Read(ref _inUse);

    private KeyValuePair<string, object?> PoolTag { get; }

    /// <summary>The shared pool of a connection string.</summary>
    public static ConnectionPool For(MySqlConnectionStringBuilder settings) =>
        Pools.GetOrAdd(settings.ConnectionString, _ => new ConnectionPool(settings, TimeProvider.System));

    public static async Task ClearAllAsync()
    {
        foreach (var pool in Pools.Values)
        {
            await pool.ClearIdleAsync().ConfigureAwait(false);
        }
    }

    /// <summary>An idle session, or a new one (<paramref name="blocking"/>: see <see cref="ServerSession.ConnectAsync"/>).</summary>
    public async Task<ServerSession> RentAsync(bool blocking, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var timeout = TimeSpan.FromSeconds(Settings.ConnectionTimeout);
        if (!await _slots.WaitAsync(timeout, cancellationToken).ConfigureAwait(false))
        {
            Timeouts.Add(1, PoolTag);
            throw new MySqlException(MySqlErrorCode.PoolExhausted, "08004",
                $"all {Settings.MaximumPoolSize} pooled connections are in use and none was returned within {Settings.ConnectionTimeout} s; raise Maximum Pool Size or close connections sooner",
                isTransient: true);
        }
        try
        {
            while (TakeIdle() is { } idle)
            {
                // Idle time is the maintenance pass's business (it keeps Minimum Pool Size); here only liveness.
                if (IsAlive(idle))
                {
                    Interlocked.Increment(ref _inUse);
                    return idle;
                }
                await idle.DisposeAsync().ConfigureAwait(false);
            }
            var session = await OpenSessionAsync(Settings, _timeProvider, blocking, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _inUse);
            return session;
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    public async Task ReturnAsync(ServerSession session)
    {
        Interlocked.Decrement(ref _inUse);
        try
        {
            if (!_disposed && IsAlive(session) && Settings.ConnectionReset && !session.TryDeferReset())
            {
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(Settings.ConnectionTimeout));
                    await session.ResetAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is MySqlException or OperationCanceledException)
                {
                    await session.DisposeAsync().ConfigureAwait(false);
                    return;
                }
            }
            if (_disposed || !IsAlive(session))
            {
                await session.DisposeAsync().ConfigureAwait(false);
                return;
            }
            session.LastReturnedAt = _timeProvider.GetUtcNow();
            lock (_idle)
            {
                _idle.Push(session);
            }
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>Opens a session outside any pool, within the connect timeout.</summary>
    public static async Task<ServerSession> OpenSessionAsync(MySqlConnectionStringBuilder settings, TimeProvider timeProvider, bool blocking, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var session = new ServerSession(settings, timeProvider);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(settings.ConnectionTimeout));
        try
        {
            await session.ConnectAsync(blocking, timeout.Token).ConfigureAwait(false);
            CreateTime.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
            return session;
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw new MySqlException(MySqlErrorCode.UnableToConnect, "08001",
                $"could not connect to {settings.Server}:{settings.Port} within the connect timeout of {settings.ConnectionTimeout} s", isTransient: true, e);
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        Live.TryRemove(this, out _);
        await _reaper.DisposeAsync().ConfigureAwait(false);
        await ClearIdleAsync().ConfigureAwait(false);
    }

    /// <summary>Not broken, not busy and within its lifetime.</summary>
    private bool IsAlive(ServerSession session) =>
        !session.IsBroken && !session.IsReadingResult && !session.ResetFailed
        && (Settings.ConnectionLifetime == 0 || _timeProvider.GetUtcNow() - session.CreatedAt <= TimeSpan.FromSeconds(Settings.ConnectionLifetime));

    private bool IsIdleTooLong(ServerSession session) =>
        Settings.ConnectionIdleTimeout > 0 && _timeProvider.GetUtcNow() - session.LastReturnedAt > TimeSpan.FromSeconds(Settings.ConnectionIdleTimeout);

    private ServerSession? TakeIdle()
    {
        lock (_idle)
        {
            return _idle.TryPop(out var session) ? session : null;
        }
    }

    private async Task ClearIdleAsync()
    {
        while (TakeIdle() is { } session)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Closes idle sessions past their idle timeout or lifetime; opens new ones up to Minimum Pool Size.</summary>
    private async Task MaintainAsync()
    {
        if (_disposed)
        {
            return;
        }
        // Newest first; the Minimum Pool Size newest live ones stay however long they have idled.
        var expired = new List<ServerSession>();
        lock (_idle)
        {
            var newestFirst = _idle.ToList();
            _idle.Clear();
            var keep = new List<ServerSession>();
            var minimumIdle = Math.Max(0, Settings.MinimumPoolSize - InUseCount);
            foreach (var session in newestFirst)
            {
                var stays = IsAlive(session) && (keep.Count < minimumIdle || !IsIdleTooLong(session));
                (stays ? keep : expired).Add(session);
            }
            for (var i = keep.Count - 1; i >= 0; i--)
            {
                _idle.Push(keep[i]);
            }
        }
        foreach (var session in expired)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
        while (!_disposed && IdleCount + InUseCount < Settings.MinimumPoolSize)
        {
            try
            {
                var session = await OpenSessionAsync(Settings, _timeProvider, blocking: false, CancellationToken.None).ConfigureAwait(false);
                lock (_idle)
                {
                    _idle.Push(session);
                }
            }
            catch (MySqlException)
            {
                return;
            }
        }
    }

    private static IEnumerable<Measurement<int>> ObserveCounts()
    {
        foreach (var pool in Live.Keys)
        {
            yield return new Measurement<int>(pool.IdleCount, pool.PoolTag, new KeyValuePair<string, object?>("db.client.connection.state", "idle"));
            yield return new Measurement<int>(pool.InUseCount, pool.PoolTag, new KeyValuePair<string, object?>("db.client.connection.state", "used"));
        }
    }
}
