using Microsoft.AspNetCore.Http;

namespace Foobar.Http;

/// <summary>
/// The <c>X-Served-By</c> header: the names of the servers a response passed through, in request
/// order (<c>lb1, web2, app1</c>), so round robin and failover are visible with curl.
/// </summary>
public static class ServedBy
{
    /// <summary>The header name.</summary>
    public const string HeaderName = "X-Served-By";

    /// <summary>Sets the header to <paramref name="self"/> followed by what the upstream reported.</summary>
    public static void Set(HttpResponse response, string self, string? upstream) =>
        response.Headers[HeaderName] = string.IsNullOrEmpty(upstream) ? self : $"{self}, {upstream}";

    /// <summary>Makes every response of <paramref name="context"/> carry at least <paramref name="self"/>.</summary>
    public static void EnsureOnStart(HttpContext context, string self) =>
        context.Response.OnStarting(static state =>
        {
            var (response, name) = ((HttpResponse, string))state;
            if (!response.Headers.ContainsKey(HeaderName))
            {
                response.Headers[HeaderName] = name;
            }
            return Task.CompletedTask;
        }, (context.Response, self));
}
