using Foobar.MySql.Core;
using System.Data;
using System.Data.Common;

namespace Foobar.MySql;

/// <summary>A transaction on one connection; rolled back when disposed without <see cref="Commit"/>.</summary>
public sealed class MySqlTransaction : DbTransaction
{
    private MySqlConnection? _connection;

    internal MySqlTransaction(MySqlConnection connection, IsolationLevel isolationLevel)
    {
        _connection = connection;
        IsolationLevel = isolationLevel;
    }

    /// <inheritdoc />
    public override IsolationLevel IsolationLevel { get; }

    /// <summary>The connection, or null once committed or rolled back.</summary>
    public new MySqlConnection? Connection => _connection;

    /// <inheritdoc />
    protected override DbConnection? DbConnection => _connection;

    /// <inheritdoc />
    public override void Commit()
    {
        using var blocking = _connection?.Block() ?? default;
        CommitAsync().GetAwaiter().GetResult();
    }

    /// <inheritdoc />
    public override async Task CommitAsync(CancellationToken cancellationToken = default) => await FinishAsync("COMMIT", cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public override void Rollback()
    {
        using var blocking = _connection?.Block() ?? default;
        RollbackAsync().GetAwaiter().GetResult();
    }

    /// <inheritdoc />
    public override async Task RollbackAsync(CancellationToken cancellationToken = default) => await FinishAsync("ROLLBACK", cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        if (_connection is { State: ConnectionState.Open })
        {
            await FinishAsync("ROLLBACK", CancellationToken.None).ConfigureAwait(false);
        }
        _connection = null;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        base.Dispose(disposing);
    }

    private async Task FinishAsync(string statement, CancellationToken cancellationToken)
    {
        var connection = _connection ?? throw new InvalidOperationException("the transaction is already committed or rolled back");
        _connection = null;
        await connection.ActiveSession().ExecuteSimpleAsync(statement, cancellationToken).ConfigureAwait(false);
    }
}
