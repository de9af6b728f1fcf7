using System.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace Foobar.Http.AccessLogs;

/// <summary>One request as the access log records it; taken when the response is done.</summary>
/// <param name="Time">When the request arrived.</param>
/// <param name="Client">The client's address.</param>
/// <param name="Method">The method.</param>
/// <param name="Target">Path and query as received.</param>
/// <param name="Protocol">HTTP/1.1, HTTP/2…</param>
/// <param name="Status">The response status.</param>
/// <param name="BodyBytes">The response body's declared length; null when it was not declared (chunked).</param>
/// <param name="Referer">The Referer header.</param>
/// <param name="UserAgent">The User-Agent header.</param>
/// <param name="Duration">From the request's arrival to the end of the response.</param>
/// <param name="Upstream">The servers behind this one that took part (from X-Served-By); null when none did.</param>
/// <param name="RequestId">The X-Request-Id the request carried or was given.</param>
/// <param name="ForwardedFor">The X-Forwarded-For the request came with: behind a load balancer, the real client.</param>
public readonly record struct AccessLogEntry(
    DateTimeOffset Time, string Client, string Method, string Target, string Protocol, int Status, long? BodyBytes,
    string? Referer, string? UserAgent, TimeSpan Duration, string? Upstream, string? RequestId, string? ForwardedFor = null)
{
    /// <summary>The entry for <paramref name="context"/>'s finished exchange, which started at <paramref name="startedAt"/> (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    /// <param name="context">The exchange.</param>
    /// <param name="arrived">When the request arrived.</param>
    /// <param name="startedAt">The timestamp taken then.</param>
    /// <param name="self">This server's name, which X-Served-By starts with.</param>
    public static AccessLogEntry Of(HttpContext context, DateTimeOffset arrived, long startedAt, string self)
    {
        var request = context.Request;
        var response = context.Response;
        var servedBy = response.Headers[ServedBy.HeaderName].ToString();
        string? upstream = null;
        if (servedBy.StartsWith(self, StringComparison.Ordinal) && servedBy.Length > self.Length + 2)
        {
            upstream = servedBy[(self.Length + 2)..];
        }
        var referer = request.Headers.Referer.ToString();
        var userAgent = request.Headers.UserAgent.ToString();
        var requestId = request.Headers[Forwarder.HttpForwarder.RequestIdHeader].ToString();
        var forwardedFor = request.Headers["X-Forwarded-For"].ToString();
        return new AccessLogEntry(
            arrived,
            context.Connection.RemoteIpAddress?.ToString() ?? "-",
            request.Method,
            string.Concat(request.PathBase.Value, request.Path.Value, request.QueryString.Value),
            request.Protocol,
            response.StatusCode,
            response.ContentLength,
            referer.Length == 0 ? null : referer,
            userAgent.Length == 0 ? null : userAgent,
            Stopwatch.GetElapsedTime(startedAt),
            upstream,
            requestId.Length == 0 ? null : requestId,
            forwardedFor.Length == 0 ? null : forwardedFor);
    }
}
