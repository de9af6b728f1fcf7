using Foobar.Http.Backends;
using Microsoft.Extensions.Logging;

namespace Foobar.Http.Health;

/// <summary>
/// Asks every backend of a pool for <c>checkPath</c> at a fixed interval: a 2xx marks it up,
/// anything else (error, timeout, other status) marks it down. One check decides either way;
/// rise/fall counts come with the load balancer issue.
/// </summary>
public sealed partial class ActiveHealthChecker(
    BackendPool pool,
    string checkPath,
    TimeSpan interval,
    HttpMessageInvoker client,
    TimeProvider timeProvider,
    ILogger logger)
{
    /// <summary>Runs checks until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval, timeProvider);
        do
        {
            await Task.WhenAll(pool.Backends.Select(b => CheckAsync(b, cancellationToken))).ConfigureAwait(false);
        }
        while (await WaitAsync(timer, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Checks one backend once and updates its state.</summary>
    public async Task CheckAsync(Backend backend, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(interval < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : interval);
        string? failure;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(backend.BaseUri, checkPath));
            using var response = await client.SendAsync(request, timeout.Token).ConfigureAwait(false);
            failure = response.IsSuccessStatusCode ? null : $"check answered {(int)response.StatusCode}";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            failure = "check timed out";
        }
        catch (HttpRequestException e)
        {
            failure = $"check failed: {e.Message}";
        }
        catch (OperationCanceledException)
        {
            return;
        }
        var state = failure is null ? BackendState.Up : BackendState.Down;
        if (state != backend.State)
        {
            LogStateChange(logger, backend.Name, state, failure ?? "check passed");
        }
        backend.SetState(state, failure ?? "check passed");
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "Backend {Backend} is now {State}: {Reason}")]
    private static partial void LogStateChange(ILogger logger, string backend, BackendState state, string reason);
}
