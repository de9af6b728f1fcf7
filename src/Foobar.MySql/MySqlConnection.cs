using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using Foobar.MySql.Core;

namespace Foobar.MySql;

/// <summary>
/// A connection to MariaDB or MySQL. With pooling (the default) <see cref="OpenAsync(CancellationToken)"/>
/// takes a connection from the pool of its connection string and <see cref="CloseAsync"/> returns it.
/// </summary>
public sealed class MySqlConnection : DbConnection
{
    private string _connectionString = "";
    private MySqlConnectionStringBuilder _settings = new();
    private ConnectionPool? _pool;
    private ServerSession? _session;
    private ConnectionState _state = ConnectionState.Closed;

    /// <summary>A closed connection with no connection string.</summary>
    public MySqlConnection()
    {
    }

    /// <summary>A closed connection for <paramref name="connectionString"/>.</summary>
    public MySqlConnection(string connectionString)
    {
        ConnectionString = connectionString;
    }

    internal MySqlConnection(ConnectionPool pool)
    {
        _pool = pool;
        _settings = pool.Settings;
        _connectionString = pool.Settings.ConnectionString;
    }

    /// <inheritdoc />
    [AllowNull]
    public override string ConnectionString
    {
        get => _connectionString;
        set
        {
            if (_state != ConnectionState.Closed)
            {
                throw new InvalidOperationException("the connection string cannot change while the connection is open");
            }
            _connectionString = value ?? "";
            _settings = new MySqlConnectionStringBuilder(_connectionString);
            _settings.Validate();
            _pool = null;
        }
    }

    internal MySqlConnectionStringBuilder Settings => _settings;

    /// <inheritdoc />
    public override string Database => _session?.Database ?? _settings.Database;

    /// <inheritdoc />
    public override string DataSource => _settings.Server;

    /// <inheritdoc />
    public override string ServerVersion => _session?.ServerVersion ?? throw new InvalidOperationException("the connection is not open");

    /// <inheritdoc />
    public override ConnectionState State => _state;

    /// <summary>The server's id for this connection (what KILL and the process list use).</summary>
    public int ServerThread => (int)(_session?.ConnectionId ?? 0);

    /// <summary>
    /// The GTID of the last transaction this connection committed (MariaDB <c>last_gtid</c>, from
    /// session state tracking), or null before the first write. Read-your-writes waits on a replica
    /// for this GTID with MASTER_GTID_WAIT.
    /// </summary>
    public string? LastGtid => _session?.LastGtid;

    /// <summary>Whether the connection is encrypted with TLS.</summary>
    public bool IsEncrypted => _session?.IsEncrypted ?? false;

    /// <summary>The authentication method the server and this client agreed on.</summary>
    public string AuthenticationMethod => _session?.AuthenticationMethod ?? "";

    /// <inheritdoc />
    /// <remarks>
    /// A connection opened here uses blocking socket calls for the synchronous methods (each a
    /// plain system call, as in a C client); the asynchronous methods work on it too.
    /// </remarks>
    public override void Open() => OpenCoreAsync(blocking: true, CancellationToken.None).GetAwaiter().GetResult();

    /// <inheritdoc />
    public override Task OpenAsync(CancellationToken cancellationToken) => OpenCoreAsync(blocking: false, cancellationToken);

    private async Task OpenCoreAsync(bool blocking, CancellationToken cancellationToken)
    {
        if (_state != ConnectionState.Closed)
        {
            throw new InvalidOperationException($"the connection is already {_state}");
        }
        _state = ConnectionState.Connecting;
        try
        {
            if (_settings.Pooling)
            {
                _pool ??= ConnectionPool.For(_settings);
                _session = await _pool.RentAsync(blocking, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                _session = await ConnectionPool.OpenSessionAsync(_settings, TimeProvider.System, blocking, cancellationToken).ConfigureAwait(false);
            }
            _state = ConnectionState.Open;
        }
        catch
        {
            _state = ConnectionState.Closed;
            throw;
        }
    }

    /// <inheritdoc />
    public override void Close()
    {
        using var blocking = Block();
        CloseAsync().GetAwaiter().GetResult();
    }

    /// <inheritdoc />
    public override async Task CloseAsync()
    {
        var session = _session;
        _session = null;
        _state = ConnectionState.Closed;
        if (session is null)
        {
            return;
        }
        if (_pool is not null)
        {
            await _pool.ReturnAsync(session).ConfigureAwait(false);
        }
        else
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Close();
        }
        base.Dispose(disposing);
    }

    /// <inheritdoc />
    public override void ChangeDatabase(string databaseName)
    {
        using var blocking = Block();
        ChangeDatabaseAsync(databaseName).GetAwaiter().GetResult();
    }

    /// <inheritdoc />
    public override async Task ChangeDatabaseAsync(string databaseName, CancellationToken cancellationToken = default)
    {
        var session = ActiveSession();
        await session.ExecuteSimpleAsync($"USE `{databaseName.Replace("`", "``", StringComparison.Ordinal)}`", cancellationToken).ConfigureAwait(false);
        session.Database = databaseName;
    }

    /// <summary>COM_PING: whether the server answers on this connection.</summary>
    public async Task<bool> PingAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await ActiveSession().PingAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (MySqlException)
        {
            return false;
        }
    }

    /// <summary>COM_RESET_CONNECTION: session variables, temporary tables and locks back to a fresh connection's.</summary>
    public Task ResetConnectionAsync(CancellationToken cancellationToken = default) => ActiveSession().ResetAsync(cancellationToken);

    /// <summary>Starts a transaction.</summary>
    public new MySqlTransaction BeginTransaction(IsolationLevel isolationLevel = IsolationLevel.Unspecified)
    {
        using var blocking = Block();
        return BeginTransactionCore(isolationLevel);
    }

    private MySqlTransaction BeginTransactionCore(IsolationLevel isolationLevel) =>
        BeginTransactionAsync(isolationLevel).AsTask().GetAwaiter().GetResult();

    /// <summary>Starts a transaction.</summary>
    public new async ValueTask<MySqlTransaction> BeginTransactionAsync(IsolationLevel isolationLevel = IsolationLevel.Unspecified, CancellationToken cancellationToken = default)
    {
        var session = ActiveSession();
        var level = isolationLevel switch
        {
            IsolationLevel.Unspecified => null,
            IsolationLevel.ReadUncommitted => "READ UNCOMMITTED",
            IsolationLevel.ReadCommitted => "READ COMMITTED",
            IsolationLevel.RepeatableRead => "REPEATABLE READ",
            IsolationLevel.Serializable => "SERIALIZABLE",
            _ => throw new NotSupportedException($"isolation level {isolationLevel} is not supported by MariaDB"),
        };
        if (level is not null)
        {
            await session.ExecuteSimpleAsync("SET TRANSACTION ISOLATION LEVEL " + level, cancellationToken).ConfigureAwait(false);
        }
        await session.ExecuteSimpleAsync("START TRANSACTION", cancellationToken).ConfigureAwait(false);
        return new MySqlTransaction(this, isolationLevel == IsolationLevel.Unspecified ? IsolationLevel.RepeatableRead : isolationLevel);
    }

    /// <inheritdoc />
    protected override DbTransaction BeginDbTransaction(IsolationLevel isolationLevel) => BeginTransaction(isolationLevel);

    /// <inheritdoc />
    protected override async ValueTask<DbTransaction> BeginDbTransactionAsync(IsolationLevel isolationLevel, CancellationToken cancellationToken) =>
        await BeginTransactionAsync(isolationLevel, cancellationToken).ConfigureAwait(false);

    /// <summary>A command on this connection.</summary>
    public new MySqlCommand CreateCommand() => new() { Connection = this };

    /// <inheritdoc />
    protected override DbCommand CreateDbCommand() => CreateCommand();

    /// <inheritdoc />
    protected override DbProviderFactory DbProviderFactory => MySqlClientFactory.Instance;

    /// <summary>Blocking I/O for one synchronous call (nothing when the connection is closed).</summary>
    internal BlockingScope Block() => new(_session);

    internal ServerSession ActiveSession() =>
        _session is { } session && _state == ConnectionState.Open ? session
            : throw new InvalidOperationException("the connection is not open; call OpenAsync first");

    /// <summary>Stops the statement running on <paramref name="connectionId"/> from a short-lived side connection.</summary>
    internal async Task KillQueryAsync(uint connectionId)
    {
        try
        {
            await using var side = await ConnectionPool.OpenSessionAsync(_settings, TimeProvider.System, blocking: false, CancellationToken.None).ConfigureAwait(false);
            await side.ExecuteSimpleAsync($"KILL QUERY {connectionId}", CancellationToken.None).ConfigureAwait(false);
        }
        catch (MySqlException)
        {
            // The statement may have finished and the connection gone; nothing left to stop.
        }
    }

    /// <summary>Closes every idle pooled connection of every pool.</summary>
    public static Task ClearAllPoolsAsync() => ConnectionPool.ClearAllAsync();
}
