using Foobar.Http.Backends;
using Microsoft.Extensions.Logging;

namespace Foobar.Http.Health;

/// <summary>
/// Checks every backend of a pool on its own schedule: GET <see cref="HealthCheckOptions.Path"/>;
/// <see cref="HealthCheckOptions.Fall"/> failures in a row take an up backend down,
/// <see cref="HealthCheckOptions.Rise"/> passes in a row bring a down one up, and while a backend
/// is on its way from one to the other it is checked at the fast interval. A forward that cannot
/// connect marks a backend down at once (passive check); the checks bring it back.
/// </summary>
public sealed partial class ActiveHealthChecker(
    BackendPool pool,
    HealthCheckOptions options,
    HttpMessageInvoker client,
    TimeProvider timeProvider,
    ILogger logger)
{
    private readonly Dictionary<Backend, int> _streaks = [];
    private readonly Lock _lock = new();

    /// <summary>Runs checks until <paramref name="cancellationToken"/> is cancelled, following the pool's backends as they change.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var loops = new Dictionary<Backend, (CancellationTokenSource Stop, Task Loop)>();
        void Follow()
        {
            lock (loops)
            {
                var current = pool.Backends;
                foreach (var gone in loops.Keys.Except(current).ToList())
                {
                    var (stop, loop) = loops[gone];
                    stop.Cancel();
                    loop.ContinueWith(_ => stop.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                    loops.Remove(gone);
                }
                foreach (var added in current.Where(b => !loops.ContainsKey(b)))
                {
                    var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    loops[added] = (stop, RunBackendAsync(added, stop.Token));
                }
            }
        }
        pool.BackendsChanged += Follow;
        try
        {
            Follow();
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            pool.BackendsChanged -= Follow;
            List<Task> running;
            lock (loops)
            {
                running = [.. loops.Values.Select(l => l.Loop)];
            }
            await Task.WhenAll(running).ConfigureAwait(false);
        }
    }

    private async Task RunBackendAsync(Backend backend, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await CheckAsync(backend, cancellationToken).ConfigureAwait(false);
                await Task.Delay(NextDelay(backend), timeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>The fast interval while <paramref name="backend"/> is changing state, else the interval.</summary>
    public TimeSpan NextDelay(Backend backend)
    {
        lock (_lock)
        {
            return _streaks.GetValueOrDefault(backend) > 0 ? options.FastInterval : options.Interval;
        }
    }

    /// <summary>Checks one backend once and updates its state when enough checks in a row agree.</summary>
    public async Task CheckAsync(Backend backend, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        var started = timeProvider.GetTimestamp();
        string? failure;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(backend.BaseUri, options.Path));
            using var response = await client.SendAsync(request, timeout.Token).ConfigureAwait(false);
            failure = options.Passes((int)response.StatusCode) ? null : $"check answered {(int)response.StatusCode}";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            failure = $"check not answered within {options.Timeout.TotalMilliseconds:0} ms";
        }
        catch (HttpRequestException e)
        {
            failure = $"check failed: {e.Message}";
        }
        backend.RecordCheck(new CheckResult(timeProvider.GetUtcNow(), failure is null, failure ?? "passed", timeProvider.GetElapsedTime(started)));
        Record(backend, failure);
    }

    /// <summary>Counts a check's outcome: a streak of checks that disagree with the state, which changes at rise or fall.</summary>
    private void Record(Backend backend, string? failure)
    {
        var passed = failure is null;
        var current = backend.State;
        BackendState? change = null;
        int streak;
        lock (_lock)
        {
            var agrees = passed == (current == BackendState.Up);
            streak = agrees ? 0 : _streaks.GetValueOrDefault(backend) + 1;
            if (streak >= (passed ? options.Rise : options.Fall))
            {
                change = passed ? BackendState.Up : BackendState.Down;
                streak = 0;
            }
            _streaks[backend] = streak;
        }
        if (change is { } state)
        {
            var reason = passed ? $"{options.Rise} checks in a row passed" : $"{options.Fall} checks in a row failed, the last: {failure}";
            LogStateChange(logger, backend.Name, state, reason);
            backend.SetState(state, reason);
        }
    }

    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "Backend {Backend} is now {State}: {Reason}")]
    private static partial void LogStateChange(ILogger logger, string backend, BackendState state, string reason);
}
