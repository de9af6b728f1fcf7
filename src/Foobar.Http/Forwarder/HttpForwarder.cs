using Foobar.Http.Backends;
using Foobar.Http.LoadBalancing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Logging;

namespace Foobar.Http.Forwarder;

/// <summary>
/// Forwards one incoming request to a backend of a pool and streams the response back,
/// trying the next backend when that is safe.
/// </summary>
/// <remarks>
/// Safe means the request cannot have reached the application: the connection could not be
/// opened, or the request is a body-less GET/HEAD/OPTIONS/TRACE, which servers must treat as
/// idempotent. A POST whose body may have been sent is never replayed; the client gets 502.
/// </remarks>
public sealed partial class HttpForwarder(HttpMessageInvoker client, ILogger<HttpForwarder> logger)
{
    /// <summary>
    /// Time to wait for a backend's response headers. Default 60 s, nginx's
    /// <c>proxy_read_timeout</c>; exceeded, the client gets 504.
    /// </summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Forwards in a row that get no usable response (garbage, a connection closed early, a
    /// timeout) before the backend is marked down (passive check). Default 3. A connection that
    /// cannot be opened marks it down at once.
    /// </summary>
    public int PassiveFailureLimit { get; init; } = 3;

    /// <summary>Forwards <paramref name="context"/>'s request; <paramref name="self"/> names this server in X-Served-By.</summary>
    public async Task ForwardAsync(HttpContext context, BackendPool pool, string self)
    {
        var replayable = IsReplayable(context);
        var tried = new List<Backend>(2);
        var key = new BalanceKey(context.Connection.RemoteIpAddress, context.Request.Path.Value ?? "/");
        while (pool.Pick(tried, key) is { } backend)
        {
            tried.Add(backend);
            backend.BeginRequest();
            try
            {
                if (await TryForwardAsync(context, backend, replayable, self).ConfigureAwait(false))
                {
                    return;
                }
            }
            finally
            {
                backend.EndRequest();
            }
        }
        var status = tried.Count == 0 ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status502BadGateway;
        var reason = tried.Count == 0 ? "no server is up" : $"no server answered (tried {string.Join(", ", tried.Select(b => b.Name))})";
        await WriteErrorAsync(context, status, self, reason).ConfigureAwait(false);
    }

    /// <summary>One try on <paramref name="backend"/>: true when the exchange is over (answered or failed for good), false to try the next.</summary>
    private async Task<bool> TryForwardAsync(HttpContext context, Backend backend, bool replayable, string self)
    {
        var aborted = context.RequestAborted;
        using var request = CreateRequest(context, backend);
        var timeout = RentTimeout(aborted);
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, timeout.Token).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (!aborted.IsCancellationRequested)
        {
            var failures = backend.CountFailure();
            var notConnected = e.HttpRequestError == HttpRequestError.ConnectionError;
            if (notConnected)
            {
                // Passive check: the active checker puts it back once it answers again.
                backend.SetState(BackendState.Down, $"connection failed: {e.Message}");
            }
            else if (failures >= PassiveFailureLimit)
            {
                backend.SetState(BackendState.Down, $"{failures} forwards in a row failed, the last: {e.Message}");
            }
            LogForwardFailed(logger, backend.Name, e.HttpRequestError, e.Message);
            if (notConnected || replayable)
            {
                backend.CountRetry();
                return false;
            }
            await WriteErrorAsync(context, StatusCodes.Status502BadGateway, self, $"{backend.Name} failed after the request was sent").ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            if (backend.CountFailure() >= PassiveFailureLimit)
            {
                backend.SetState(BackendState.Down, $"{PassiveFailureLimit} forwards in a row failed, the last: no answer within {ResponseTimeout.TotalSeconds:0} s");
            }
            await WriteErrorAsync(context, StatusCodes.Status504GatewayTimeout, self, $"{backend.Name} did not answer within {ResponseTimeout.TotalSeconds:0} s").ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
        finally
        {
            ReturnTimeout(timeout);
        }
        backend.CountSuccess();
        using (response)
        {
            await CopyResponseAsync(context, backend, response, self).ConfigureAwait(false);
        }
        return true;
    }

    /// <summary>
    /// A token source for one wait on response headers, cancelled by the timeout or by the client
    /// going away. Reused per thread: a linked source and its timer per request were a measurable
    /// share of the forwarder's allocations.
    /// </summary>
    private TimeoutSource RentTimeout(CancellationToken aborted)
    {
        var source = t_timeout ?? new TimeoutSource();
        t_timeout = null;
        source.Start(ResponseTimeout, aborted);
        return source;
    }

    private static void ReturnTimeout(TimeoutSource source)
    {
        if (source.TryReset())
        {
            t_timeout = source;
        }
    }

    [ThreadStatic]
    private static TimeoutSource? t_timeout;

    private static bool IsReplayable(HttpContext context)
    {
        var method = context.Request.Method;
        var idempotent = HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method);
        return idempotent && !HasBody(context);
    }

    private static bool HasBody(HttpContext context) =>
        context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? context.Request.ContentLength > 0;

    private static HttpRequestMessage CreateRequest(HttpContext context, Backend backend)
    {
        var incoming = context.Request;
        var message = new HttpRequestMessage(HttpMethod.Parse(incoming.Method),
            string.Concat(backend.Origin, incoming.PathBase.ToUriComponent(), incoming.Path.ToUriComponent(), incoming.QueryString.Value))
        {
            Version = System.Net.HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        if (HasBody(context))
        {
            message.Content = new StreamContent(incoming.Body);
        }
        foreach (var header in incoming.Headers)
        {
            var name = header.Key;
            if (HopByHopHeaders.Contains(name) || name.Equals("Host", StringComparison.OrdinalIgnoreCase)
                || name.Equals("X-Forwarded-For", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            var values = header.Value;
            var added = values.Count == 1
                ? message.Headers.TryAddWithoutValidation(name, values.ToString())
                : message.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            if (!added && message.Content is { } content)
            {
                content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }
        message.Headers.Host = incoming.Host.Value;
        var prior = incoming.Headers["X-Forwarded-For"].ToString();
        if (context.Connection.RemoteIpAddress is { } remote)
        {
            var address = remote.ToString();
            message.Headers.TryAddWithoutValidation("X-Forwarded-For", prior.Length == 0 ? address : $"{prior}, {address}");
        }
        else if (prior.Length > 0)
        {
            message.Headers.TryAddWithoutValidation("X-Forwarded-For", prior);
        }
        if (!incoming.Headers.ContainsKey("X-Forwarded-Proto"))
        {
            message.Headers.TryAddWithoutValidation("X-Forwarded-Proto", incoming.Scheme);
        }
        if (!incoming.Headers.ContainsKey("X-Forwarded-Host") && incoming.Host.HasValue)
        {
            message.Headers.TryAddWithoutValidation("X-Forwarded-Host", incoming.Host.Value);
        }
        return message;
    }

    private async Task CopyResponseAsync(HttpContext context, Backend backend, HttpResponseMessage response, string self)
    {
        var outgoing = context.Response;
        outgoing.StatusCode = (int)response.StatusCode;
        backend.CountResponse(outgoing.StatusCode);
        CopyHeaders(response.Headers, outgoing);
        CopyHeaders(response.Content.Headers, outgoing);
        var upstream = response.Headers.NonValidated.TryGetValues(ServedBy.HeaderName, out var values) ? values.ToString() : null;
        ServedBy.Set(outgoing, self, upstream);
        try
        {
            var body = await response.Content.ReadAsStreamAsync(context.RequestAborted).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                await body.CopyToAsync(outgoing.Body, context.RequestAborted).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
        {
            // The status line is gone already; the only honest signal left is to cut the connection.
            LogResponseCopyFailed(logger, e.Message);
            context.Abort();
        }
    }

    /// <summary>
    /// Copies headers as received (<c>NonValidated</c>): enumerating <see cref="System.Net.Http.Headers.HttpHeaders"/>
    /// otherwise parses every value into its typed form only for it to be printed again.
    /// </summary>
    private static void CopyHeaders(System.Net.Http.Headers.HttpHeaders headers, HttpResponse outgoing)
    {
        foreach (var (name, values) in headers.NonValidated)
        {
            if (!HopByHopHeaders.Contains(name) && !name.Equals(ServedBy.HeaderName, StringComparison.OrdinalIgnoreCase))
            {
                outgoing.Headers[name] = values.Count == 1 ? new StringValues(values.ToString()) : new StringValues(values.ToArray());
            }
        }
    }

    private static async Task WriteErrorAsync(HttpContext context, int status, string self, string reason)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return;
        }
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        ServedBy.Set(context.Response, self, null);
        await context.Response.WriteAsync($"{status} {ReasonPhrases.GetReasonPhrase(status)}: {reason}\n", context.RequestAborted).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 1000, Level = LogLevel.Warning, Message = "Forward to {Backend} failed ({Error}): {Message}")]
    private static partial void LogForwardFailed(ILogger logger, string backend, HttpRequestError error, string message);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "Copying the response body failed; connection aborted: {Message}")]
    private static partial void LogResponseCopyFailed(ILogger logger, string message);
}
