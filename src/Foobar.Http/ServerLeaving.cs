namespace Foobar.Http;

/// <summary>
/// A web or app server told to stop (SIGTERM) leaves rotation before it closes anything, as a
/// lame duck: its check answers 503 so the tier in front stops sending it requests, and it stops
/// only once no request has come for a while (the front servers have taken it out) or the front
/// servers' checks must have seen it by then. Without this, a request sent on a keep-alive
/// connection just as the server closes it is lost, and the front may not replay it (a POST).
/// The control plane drains a server before it stops it; this is for a SIGTERM from elsewhere
/// (a real host's service manager, an operator's <c>kill</c>).
/// </summary>
public static class ServerLeaving
{
    private static volatile bool _leaving;
    private static long _lastRequest;

    /// <summary>Whether this server is leaving: its checks fail from now on.</summary>
    public static bool IsLeaving => _leaving;

    /// <summary>Starts leaving: the checks fail, and the quiet time counts from now.</summary>
    public static void Begin(TimeProvider time)
    {
        Volatile.Write(ref _lastRequest, time.GetTimestamp());
        _leaving = true;
    }

    /// <summary>A request (not a check) arrived; only noted while leaving.</summary>
    public static void NoteRequest(TimeProvider time)
    {
        if (_leaving)
        {
            Volatile.Write(ref _lastRequest, time.GetTimestamp());
        }
    }

    /// <summary>
    /// Completes once no request has arrived for <paramref name="quiet"/>, or at the latest after
    /// <paramref name="longest"/> since leaving began; returns how long it waited.
    /// </summary>
    public static async Task<TimeSpan> WaitUntilOutAsync(TimeSpan quiet, TimeSpan longest, TimeProvider time, CancellationToken cancellationToken = default)
    {
        var began = time.GetTimestamp();
        var look = TimeSpan.FromMilliseconds(Math.Clamp(quiet.TotalMilliseconds / 10, 10, 100));
        while (time.GetElapsedTime(Volatile.Read(ref _lastRequest)) < quiet && time.GetElapsedTime(began) < longest)
        {
            await Task.Delay(look, time, cancellationToken).ConfigureAwait(false);
        }
        return time.GetElapsedTime(began);
    }

    /// <summary>For tests: back to serving.</summary>
    internal static void Reset() => _leaving = false;
}
