namespace Foobar.MySql;

/// <summary>
/// The server sent something the protocol does not allow: a malformed, truncated or oversized
/// packet, or a packet out of sequence. The connection it happened on is closed, never reused.
/// </summary>
public sealed class MySqlProtocolException : MySqlException
{
    /// <summary>Creates the exception.</summary>
    public MySqlProtocolException(string message)
        : base(MySqlErrorCode.ProtocolError, "HY000", "protocol error: " + message, isTransient: false)
    {
    }
}
