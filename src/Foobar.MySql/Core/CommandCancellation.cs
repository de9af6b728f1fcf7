using System.Diagnostics;

namespace Foobar.MySql.Core;

/// <summary>
/// Turns a cancelled token or an elapsed command timeout into KILL QUERY on a side connection: the
/// server stops the statement, the command's read gets ER_QUERY_INTERRUPTED, and the connection stays
/// usable. Cancelling the socket read instead would leave the statement running and the connection
/// in an unknown state.
/// </summary>
/// <remarks>
/// One instance per session, reused by every command. The timeout is a deadline, not a timer per
/// command: one timer per session is armed once and, when it fires, either finds the running
/// command past its deadline or re-arms itself for the rest (or disarms when nothing runs). So a
/// command costs a timestamp and, with a cancellable token, one callback registration; no timer
/// change, no allocation.
/// </remarks>
internal sealed class CommandCancellation : IDisposable
{
    private readonly ServerSession _session;
    private readonly Lock _lock = new();
    private Timer? _timer;
    private bool _timerArmed;
    private long _armedFor;
    private bool _running;
    private long _deadline;
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
        _callerToken = callerToken;
        _timeoutSeconds = timeoutSeconds;
        _timedOut = false;
        lock (_lock)
        {
            _connection = connection;
            _kill = null;
            _finished = null;
            _running = true;
            _deadline = timeoutSeconds > 0 ? Stopwatch.GetTimestamp() + timeoutSeconds * Stopwatch.Frequency : long.MaxValue;
            // Armed for later than this deadline (an earlier command had a longer timeout): bring it forward.
            if (timeoutSeconds > 0 && (!_timerArmed || _deadline < _armedFor))
            {
                _timer ??= new Timer(static state => ((CommandCancellation)state!).OnTimer(), this, Timeout.Infinite, Timeout.Infinite);
                _timer.Change(TimeSpan.FromSeconds(timeoutSeconds), Timeout.InfiniteTimeSpan);
                _timerArmed = true;
                _armedFor = _deadline;
            }
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
            if (_running && _connection is { } connection)
            {
                _finished ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _kill ??= KillAsync(connection, _finished.Task);
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
        _callerRegistration = default;
        Task? kill;
        lock (_lock)
        {
            // The timer stays armed: when it fires with nothing running it disarms itself.
            _running = false;
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

    private void OnTimer()
    {
        lock (_lock)
        {
            if (!_running || _deadline == long.MaxValue || _timer is null)
            {
                _timerArmed = false;
                return;
            }
            var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _deadline);
            if (remaining > TimeSpan.Zero)
            {
                _timer.Change(remaining, Timeout.InfiniteTimeSpan);
                _armedFor = _deadline;
                return;
            }
            _timerArmed = false;
        }
        _timedOut = true;
        Cancel();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _timer?.Dispose();
            _timer = null;
            _timerArmed = false;
        }
    }
}
