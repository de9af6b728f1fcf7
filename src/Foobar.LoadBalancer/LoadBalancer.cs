using Foobar.Http.Backends;
using Foobar.Http.Forwarder;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Foobar.LoadBalancer;

/// <summary>The lb role's pipeline: every request goes to the next web server.</summary>
public static class LoadBalancer
{
    /// <summary>Adds the load balancer to <paramref name="app"/>'s pipeline.</summary>
    /// <param name="app">The pipeline of the load balancer's listener.</param>
    /// <param name="serverName">This load balancer, for X-Served-By.</param>
    /// <param name="webServers">Where requests go.</param>
    /// <param name="forwarder">Forwards them.</param>
    /// <param name="maxBody">Largest request body in bytes: a larger declared one gets 413 before any web server is asked; a chunked one that grows past it is cut with 413.</param>
    /// <remarks>
    /// Kestrel refuses malformed requests before they get here (bad request lines and headers,
    /// duplicate or negative Content-Length, a final transfer coding other than chunked, no Host,
    /// an unknown HTTP version, headers over 32 KB, headers not finished within the header
    /// timeout). A request with both Content-Length and Transfer-Encoding is read by its chunked
    /// framing, with Content-Length dropped (RFC 9112 §6.3), and the forwarder frames the body
    /// anew towards the web server: the smuggling shape never reaches a backend as it came.
    /// </remarks>
    public static void Configure(IApplicationBuilder app, string serverName, BackendPool webServers, HttpForwarder forwarder, long maxBody) =>
        app.Run(context =>
        {
            if (context.Request.ContentLength > maxBody)
            {
                return RefuseBodyAsync(context, serverName, maxBody);
            }
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = maxBody;
            }
            return forwarder.ForwardAsync(context, webServers, serverName);
        });

    private static Task RefuseBodyAsync(HttpContext context, string serverName, long maxBody)
    {
        // The body is not read: the connection cannot be reused.
        context.Response.Headers.Connection = "close";
        return ErrorResponse.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, serverName,
            $"the body of {context.Request.ContentLength} bytes is over this site's limit of {maxBody} bytes");
    }
}
