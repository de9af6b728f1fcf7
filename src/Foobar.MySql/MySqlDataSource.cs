using System.Data.Common;
using Foobar.MySql.Core;

namespace Foobar.MySql;

/// <summary>
/// A pool of connections to one server, as an ADO.NET <see cref="DbDataSource"/>: create one per
/// server at start-up and take connections from it. Disposing it closes its connections.
/// </summary>
public sealed class MySqlDataSource : DbDataSource
{
    private readonly ConnectionPool _pool;

    /// <summary>A data source for <paramref name="connectionString"/>, with a pool of its own.</summary>
    public MySqlDataSource(string connectionString)
        : this(connectionString, TimeProvider.System)
    {
    }

    /// <summary>A data source whose pool keeps time with <paramref name="timeProvider"/> (tests use a fake one).</summary>
    internal MySqlDataSource(string connectionString, TimeProvider timeProvider)
    {
        var settings = new MySqlConnectionStringBuilder(connectionString);
        settings.Validate();
        _pool = new ConnectionPool(settings, timeProvider);
    }

    /// <inheritdoc />
    public override string ConnectionString => _pool.Settings.ConnectionString;

    /// <summary>Connections in the pool now: (idle, in use).</summary>
    public (int Idle, int InUse) PoolSize => (_pool.IdleCount, _pool.InUseCount);

    /// <summary>An open connection from the pool.</summary>
    public new async ValueTask<MySqlConnection> OpenConnectionAsync(CancellationToken cancellationToken = default)
    {
        var connection = new MySqlConnection(_pool);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    /// <inheritdoc />
    protected override DbConnection CreateDbConnection() => new MySqlConnection(_pool);

    /// <inheritdoc />
    protected override async ValueTask DisposeAsyncCore() => await _pool.DisposeAsync().ConfigureAwait(false);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _pool.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        base.Dispose(disposing);
    }
}
