namespace Foobar.MySql;

/// <summary>Error numbers this client names: server errors (1xxx) and client-side ones (2xxx, as libmariadb's CR_ codes).</summary>
public static class MySqlErrorCode
{
    /// <summary>ER_CON_COUNT_ERROR: too many connections.</summary>
    public const int TooManyConnections = 1040;

    /// <summary>ER_ACCESS_DENIED_ERROR: wrong user or password.</summary>
    public const int AccessDenied = 1045;

    /// <summary>ER_NO_SUCH_THREAD: KILL of a session that no longer exists.</summary>
    public const int UnknownThread = 1094;

    /// <summary>ER_HOST_NOT_PRIVILEGED: no account accepts connections from the client's address.</summary>
    public const int HostNotPrivileged = 1130;

    /// <summary>ER_LOCK_WAIT_TIMEOUT.</summary>
    public const int LockWaitTimeout = 1205;

    /// <summary>ER_LOCK_DEADLOCK.</summary>
    public const int Deadlock = 1213;

    /// <summary>ER_OPTION_PREVENTS_STATEMENT: e.g. a write on a read_only server (a replica, or a demoted primary).</summary>
    public const int OptionPreventsStatement = 1290;

    /// <summary>ER_QUERY_INTERRUPTED: KILL QUERY, i.e. cancellation or a command timeout.</summary>
    public const int QueryInterrupted = 1317;

    /// <summary>ER_READ_ONLY_MODE.</summary>
    public const int ReadOnlyMode = 1836;

    /// <summary>ER_CONNECTION_KILLED.</summary>
    public const int ConnectionKilled = 1927;

    /// <summary>CR_CONNECTION_ERROR: the connection could not be opened.</summary>
    public const int UnableToConnect = 2002;

    /// <summary>CR_SERVER_LOST: the connection broke during a command.</summary>
    public const int ConnectionLost = 2013;

    /// <summary>CR_MALFORMED_PACKET: the server broke the protocol.</summary>
    public const int ProtocolError = 2027;

    /// <summary>An authentication method this client does not implement, or a failed TLS requirement.</summary>
    public const int AuthenticationFailed = 2059;

    /// <summary>The pool had no connection to give within the connect timeout.</summary>
    public const int PoolExhausted = 2060;

    /// <summary>A command was given on a connection in the wrong state (closed, busy reading a result).</summary>
    public const int InvalidState = 2061;
}
