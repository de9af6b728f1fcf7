using System.Data.Common;

namespace Foobar.MySql;

/// <summary>
/// An error from the server (with its error number and SQLSTATE) or from the client (a lost
/// connection, a protocol violation). <see cref="IsTransient"/> says whether retrying the whole
/// operation, on a new connection where needed, may succeed.
/// </summary>
public class MySqlException : DbException
{
    /// <summary>Creates the exception.</summary>
    public MySqlException(int errorNumber, string sqlState, string message, bool? isTransient = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Number = errorNumber;
        SqlState = sqlState;
        _isTransient = isTransient ?? IsTransientNumber(errorNumber);
    }

    private readonly bool _isTransient;

    /// <summary>The error number (server 1xxx, client 2xxx); see <see cref="MySqlErrorCode"/>.</summary>
    public int Number { get; }

    /// <inheritdoc />
    public override int ErrorCode => Number;

    /// <summary>The five-character SQLSTATE.</summary>
    public override string SqlState { get; }

    /// <summary>
    /// Whether the operation may succeed if retried: the connection was lost, the server is read-only
    /// (a failover in progress), a deadlock or a lock wait timeout.
    /// </summary>
    public override bool IsTransient => _isTransient;

    private static bool IsTransientNumber(int number) => number is
        MySqlErrorCode.TooManyConnections or MySqlErrorCode.LockWaitTimeout or MySqlErrorCode.Deadlock
        or MySqlErrorCode.OptionPreventsStatement or MySqlErrorCode.ReadOnlyMode or MySqlErrorCode.ConnectionKilled
        or MySqlErrorCode.UnableToConnect or MySqlErrorCode.ConnectionLost;
}
