namespace Foobar.MySql.Core;

/// <summary>
/// Turns a cancelled token or an elapsed command timeout into KILL QUERY on a side connection: the
/// server stops the statement, the command's read gets ER_QUERY_INTERRUPTED, and the connection stays
/// usable. Cancelling the socket read instead would leave the statement running and the connection
/// in an unknown state.
/// </summary>
/// <remarks>
/// One instance per session, reused by every command (the timeout source is reset, not re-created):
/// on the hot path a command costs two callback registrations, no timer or token source allocation.
/// </remarks>
internal sealed class CommandCancellation
{
    private readonly ServerSession _session;
    private readonly Lock _lock = new();
    private CancellationTokenSource _timeout = new();
    private CancellationTokenRegistration _timeoutRegistration;
    private CancellationTokenRegistration _callerRegistration;
    private MySqlConnection? _connection;
    private CancellationToken _callerToken;
    private int _timeoutSeconds;
    private Task? _kill;
    private TaskCompletionSource? _finished;
    private bool _timedOut;

    public CommandCancellation(ServerSession session)
    {
        _session = session;
    }

    /// <summary>Arms the timeout and the caller's token for one command.</summary>
    public void Start(MySqlConnection connection, int timeoutSeconds, CancellationToken callerToken)
    {
        _connection = connection;
        _callerToken = callerToken;
        _timeoutSeconds = timeoutSeconds;
        _kill = null;
        _finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _timedOut = false;
        if (timeoutSeconds > 0)
        {
            if (!_timeout.TryReset())
            {
                _timeout.Dispose();
                _timeout = new CancellationTokenSource();
            }
            _timeoutRegistration = _timeout.Token.UnsafeRegister(static state => ((CommandCancellation)state!).OnTimeout(), this);
            _timeout.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds));
        }
        if (callerToken.CanBeCanceled)
        {
            _callerRegistration = callerToken.UnsafeRegister(static state => ((CommandCancellation)state!).Cancel(), this);
        }
    }

    /// <summary>Cancels because <paramref name="token"/> (given to a reader call) was cancelled; the error will name it.</summary>
    public void CancelFrom(CancellationToken token)
    {
        lock (_lock)
        {
            if (!_callerToken.IsCancellationRequested)
            {
                _callerToken = token;
            }
        }
        Cancel();
    }

    public void Cancel()
    {
        lock (_lock)
        {
            if (_connection is { } connection && _finished is { } finished)
            {
                _kill ??= KillAsync(connection, finished.Task);
            }
        }
    }

    /// <summary>
    /// KILL QUERY, then one connect timeout for the server to answer the command; past that (a
    /// partition, a hung server) the connection is cut so nothing waits forever.
    /// </summary>
    private async Task KillAsync(MySqlConnection connection, Task finished)
    {
        await connection.KillQueryAsync(_session.ConnectionId).ConfigureAwait(false);
        var grace = Task.Delay(TimeSpan.FromSeconds(connection.Settings.ConnectionTimeout));
        if (await Task.WhenAny(finished, grace).ConfigureAwait(false) != finished)
        {
            _session.Abort();
        }
    }

    public Exception Translate(Exception error)
    {
        if (_timedOut)
        {
            return new MySqlException(MySqlErrorCode.QueryInterrupted, "HY000",
                $"the command did not finish within its timeout of {_timeoutSeconds} s and was stopped on the server; raise CommandTimeout if it needs longer",
                isTransient: false, new TimeoutException("command timeout", error));
        }
        if (!_callerToken.IsCancellationRequested)
        {
            return error;
        }
        var how = error is MySqlException { Number: MySqlErrorCode.QueryInterrupted } ? "stopped on the server" : "its connection was closed because the server did not answer";
        return new OperationCanceledException($"the command was cancelled and {how}", error, _callerToken);
    }

    /// <summary>Disarms; if a kill was sent, waits for it and absorbs it so it cannot hit the next statement.</summary>
    public async ValueTask FinishAsync()
    {
        _callerRegistration.Dispose();
        _timeoutRegistration.Dispose();
        _callerRegistration = default;
        _timeoutRegistration = default;
        Task? kill;
        lock (_lock)
        {
            _finished?.TrySetResult();
            _finished = null;
            kill = _kill;
            _kill = null;
            _connection = null;
        }
        if (kill is not null)
        {
            await kill.ConfigureAwait(false);
            if (!_session.IsBroken && !_session.IsReadingResult)
            {
                try
                {
                    await _session.ExecuteSimpleAsync("DO SLEEP(0)", CancellationToken.None).ConfigureAwait(false);
                }
                catch (MySqlException e) when (e.Number == MySqlErrorCode.QueryInterrupted)
                {
                }
            }
        }
    }

    private void OnTimeout()
    {
        _timedOut = true;
        Cancel();
    }
}
