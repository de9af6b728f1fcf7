using Foobar.Http.Backends;
using Foobar.Http.Forwarder;
using Microsoft.AspNetCore.Builder;

namespace Foobar.LoadBalancer;

/// <summary>The lb role's pipeline: every request goes to the next web server.</summary>
public static class LoadBalancer
{
    /// <summary>Adds the load balancer to <paramref name="app"/>'s pipeline.</summary>
    /// <remarks>
    /// Kestrel refuses malformed requests before they get here (bad request lines and headers,
    /// duplicate or negative Content-Length, a final transfer coding other than chunked, no Host,
    /// an unknown HTTP version, headers over 32 KB, headers not finished within the header
    /// timeout). A request with both Content-Length and Transfer-Encoding is read by its chunked
    /// framing, with Content-Length dropped (RFC 9112 §6.3), and the forwarder frames the body
    /// anew towards the web server: the smuggling shape never reaches a backend as it came.
    /// </remarks>
    public static void Configure(IApplicationBuilder app, string serverName, BackendPool webServers, HttpForwarder forwarder) =>
        app.Run(context => forwarder.ForwardAsync(context, webServers, serverName));
}
