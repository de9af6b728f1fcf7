using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using Foobar.MySql.Core;
using Foobar.MySql.Protocol;

namespace Foobar.MySql;

/// <summary>
/// A SQL statement (or several separated by semicolons) with parameters, run with COM_QUERY.
/// Cancellation and <see cref="CommandTimeout"/> stop the statement on the server (KILL QUERY on a
/// side connection) and leave this connection usable.
/// </summary>
public sealed class MySqlCommand : DbCommand
{
    private MySqlConnection? _connection;
    private int? _timeout;
    private CommandCancellation? _cancellation;

    /// <summary>A command with no text or connection.</summary>
    public MySqlCommand()
    {
    }

    /// <summary>A command for <paramref name="connection"/>.</summary>
    public MySqlCommand(string commandText, MySqlConnection? connection = null)
    {
        CommandText = commandText;
        _connection = connection;
    }

    /// <inheritdoc />
    [AllowNull]
    public override string CommandText { get; set; } = "";

    /// <summary>Seconds before the statement is killed; 0 for no limit. Default: the connection string's Default Command Timeout (30).</summary>
    public override int CommandTimeout
    {
        get => _timeout ?? _connection?.Settings.DefaultCommandTimeout ?? 30;
        set => _timeout = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), "CommandTimeout must be 0 (no limit) or positive");
    }

    /// <inheritdoc />
    public override CommandType CommandType
    {
        get => CommandType.Text;
        set
        {
            if (value != CommandType.Text)
            {
                throw new NotSupportedException($"CommandType.{value} is not supported; write the statement as text (CALL proc(...) for stored procedures)");
            }
        }
    }

    /// <inheritdoc />
    public override bool DesignTimeVisible { get; set; }

    /// <inheritdoc />
    public override UpdateRowSource UpdatedRowSource { get; set; }

    /// <summary>The connection to run on.</summary>
    public new MySqlConnection? Connection
    {
        get => _connection;
        set => _connection = value;
    }

    /// <summary>The transaction the command belongs to (informational: MariaDB transactions are per connection).</summary>
    public new MySqlTransaction? Transaction { get; set; }

    /// <summary>The parameters.</summary>
    public new MySqlParameterCollection Parameters { get; } = new();

    /// <summary>The AUTO_INCREMENT value of the last row the command inserted.</summary>
    public long LastInsertedId { get; internal set; }

    /// <inheritdoc />
    protected override DbConnection? DbConnection
    {
        get => _connection;
        set => _connection = (MySqlConnection?)value;
    }

    /// <inheritdoc />
    protected override DbParameterCollection DbParameterCollection => Parameters;

    /// <inheritdoc />
    protected override DbTransaction? DbTransaction
    {
        get => Transaction;
        set => Transaction = (MySqlTransaction?)value;
    }

    /// <inheritdoc />
    public override void Cancel() => _cancellation?.Cancel();

    /// <inheritdoc />
    public override int ExecuteNonQuery()
    {
        using var blocking = Block();
        return ExecuteNonQueryAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <inheritdoc />
    public override async Task<int> ExecuteNonQueryAsync(CancellationToken cancellationToken)
    {
        var reader = await ExecuteReaderAsync(CommandBehavior.Default, cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false))
            {
            }
            return reader.RecordsAffected;
        }
    }

    /// <inheritdoc />
    public override object? ExecuteScalar()
    {
        using var blocking = Block();
        return ExecuteScalarAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <inheritdoc />
    public override async Task<object?> ExecuteScalarAsync(CancellationToken cancellationToken)
    {
        var reader = await ExecuteReaderAsync(CommandBehavior.Default, cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            do
            {
                if (reader.FieldCount > 0)
                {
                    return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? reader.GetValue(0) : null;
                }
            }
            while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));
            return null;
        }
    }

    /// <summary>Runs the command and returns a reader over its results.</summary>
    public new Task<MySqlDataReader> ExecuteReaderAsync(CancellationToken cancellationToken = default) =>
        ExecuteReaderAsync(CommandBehavior.Default, cancellationToken);

    /// <summary>Runs the command and returns a reader over its results.</summary>
    public new async Task<MySqlDataReader> ExecuteReaderAsync(CommandBehavior behavior, CancellationToken cancellationToken = default)
    {
        var connection = _connection ?? throw new InvalidOperationException("the command has no Connection");
        var session = connection.ActiveSession();
        if (session.ResetPending && SqlFormatter.NeedsKnownMode(Parameters))
        {
            await session.ResetAsync(cancellationToken).ConfigureAwait(false);
        }
        var sql = SqlFormatter.Format(CommandText, Parameters, session.NoBackslashEscapes, modeKnown: !session.ResetPending);
        _cancellation = session.Cancellation;
        _cancellation.Start(connection, CommandTimeout, cancellationToken);
        try
        {
            // The I/O itself is never cancelled: a cancelled command waits for the server's answer to KILL QUERY.
            await session.SendCommandAsync(CommandKind.Query, sql, CancellationToken.None).ConfigureAwait(false);
            return await MySqlDataReader.CreateAsync(this, session, behavior, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Translate while the cancellation still knows whether it fired.
            var error = TranslateError(e);
            await FinishAsync().ConfigureAwait(false);
            throw error;
        }
    }

    /// <inheritdoc />
    protected override DbDataReader ExecuteDbDataReader(CommandBehavior behavior)
    {
        using var blocking = Block();
        return ExecuteReaderAsync(behavior).GetAwaiter().GetResult();
    }

    private BlockingScope Block() => _connection?.Block() ?? default;

    /// <inheritdoc />
    protected override async Task<DbDataReader> ExecuteDbDataReaderAsync(CommandBehavior behavior, CancellationToken cancellationToken) =>
        await ExecuteReaderAsync(behavior, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public override void Prepare()
    {
        // Parameters are substituted on the client (see SqlFormatter); there is nothing to prepare.
    }

    /// <inheritdoc />
    protected override DbParameter CreateDbParameter() => new MySqlParameter();

    /// <summary>A query interrupted by our own KILL QUERY becomes a cancellation or a timeout.</summary>
    internal Exception TranslateError(Exception error) =>
        _cancellation is { } cancellation && error is MySqlException { Number: MySqlErrorCode.QueryInterrupted or MySqlErrorCode.ConnectionLost } or OperationCanceledException
            ? cancellation.Translate(error)
            : error;

    /// <summary>A token given to a reader call was cancelled: stop the statement as for the command's own token.</summary>
    internal void CancelFrom(CancellationToken token) => _cancellation?.CancelFrom(token);

    internal async ValueTask OnReaderClosedAsync(MySqlDataReader reader) => await FinishAsync().ConfigureAwait(false);

    private async ValueTask FinishAsync()
    {
        if (_cancellation is { } cancellation)
        {
            _cancellation = null;
            await cancellation.FinishAsync().ConfigureAwait(false);
        }
    }
}
