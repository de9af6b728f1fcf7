using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace Foobar.Http.Forwarder;

/// <summary>The plain-text answer a forwarding tier gives when it has no backend's answer to pass on.</summary>
public static class ErrorResponse
{
    /// <summary>
    /// Writes "<paramref name="status"/> Reason: <paramref name="reason"/>", or the site's page for
    /// the status when the request carries <see cref="IErrorPages"/> with one, with this server in
    /// X-Served-By; when the response has started already, cuts the connection instead, the only
    /// honest signal left.
    /// </summary>
    public static async Task WriteAsync(HttpContext context, int status, string self, string reason)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return;
        }
        context.Response.StatusCode = status;
        ServedBy.Set(context.Response, self, null);
        if (context.Features.Get<IErrorPages>() is { } pages && pages.TryGet(status, out var page, out var contentType))
        {
            context.Response.ContentType = contentType;
            context.Response.ContentLength = page.Length;
            if (!HttpMethods.IsHead(context.Request.Method))
            {
                await context.Response.Body.WriteAsync(page, context.RequestAborted).ConfigureAwait(false);
            }
            return;
        }
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync($"{status} {ReasonPhrases.GetReasonPhrase(status)}: {reason}\n", context.RequestAborted).ConfigureAwait(false);
    }
}
