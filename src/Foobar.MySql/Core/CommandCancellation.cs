namespace Foobar.MySql.Core;

/// <summary>
/// Turns a cancelled token or an elapsed command timeout into KILL QUERY on a side connection: the
/// server stops the statement, the command's read gets ER_QUERY_INTERRUPTED, and the connection stays
/// usable. Cancelling the socket read instead would leave the statement running and the connection
/// in an unknown state.
/// </summary>
internal sealed class CommandCancellation : IAsyncDisposable
{
    private readonly MySqlConnection _connection;
    private readonly ServerSession _session;
    private readonly CancellationToken _callerToken;
    private readonly CancellationTokenSource? _timeout;
    private readonly CancellationTokenRegistration _callerRegistration;
    private readonly CancellationTokenRegistration _timeoutRegistration;
    private readonly int _timeoutSeconds;
    private Task? _kill;
    private bool _timedOut;

    public CommandCancellation(MySqlConnection connection, ServerSession session, int timeoutSeconds, CancellationToken callerToken)
    {
        _connection = connection;
        _session = session;
        _callerToken = callerToken;
        _timeoutSeconds = timeoutSeconds;
        if (timeoutSeconds > 0)
        {
            _timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
            _timeoutRegistration = _timeout.Token.Register(() =>
            {
                _timedOut = true;
                Cancel();
            });
        }
        _callerRegistration = callerToken.Register(Cancel);
    }

    /// <summary>The token the command's I/O uses: never cancelled by us, so the read waits for the server's answer to the kill.</summary>
    public CancellationToken Token => CancellationToken.None;

    public void Cancel()
    {
        lock (this)
        {
            _kill ??= _connection.KillQueryAsync(_session.ConnectionId);
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
        return _callerToken.IsCancellationRequested ? new OperationCanceledException("the command was cancelled and stopped on the server", error, _callerToken) : error;
    }

    public async ValueTask DisposeAsync()
    {
        await _callerRegistration.DisposeAsync().ConfigureAwait(false);
        await _timeoutRegistration.DisposeAsync().ConfigureAwait(false);
        _timeout?.Dispose();
        Task? kill;
        lock (this)
        {
            kill = _kill;
        }
        if (kill is not null)
        {
            // Wait for the kill to land, then absorb it in case it arrived after the statement had
            // already finished: it must not interrupt the connection's next statement.
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
}
