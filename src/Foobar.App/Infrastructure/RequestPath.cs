using System.Net;
using Foobar.Http;
using Microsoft.AspNetCore.Http;

namespace Foobar.App.Infrastructure;

/// <summary>
/// The servers a request passed through on its way to this app server, read from what the site's
/// own proxies wrote: the connection comes from the web server, and the last
/// <c>X-Forwarded-For</c> entry from the load balancer that forwarded it to that web server.
/// </summary>
/// <param name="Client">The real client (<see cref="ClientAddress"/>).</param>
/// <param name="LoadBalancer">The load balancer; null when none forwarded the request at HTTP level (TLS passed through, or the web server was asked directly).</param>
/// <param name="Web">The web server; null when the app server was asked directly.</param>
public sealed record RequestPath(IPAddress? Client, SiteServer? LoadBalancer, SiteServer? Web)
{
    /// <summary>Works out <paramref name="request"/>'s path through <paramref name="site"/>.</summary>
    public static RequestPath Of(HttpRequest request, SiteMap site)
    {
        var client = ClientAddress.Of(request, site.IsProxy);
        if (request.HttpContext.Connection.RemoteIpAddress is not { } remote || site.Find(ClientAddress.Normalize(remote)) is not { } web || !web.Has("web"))
        {
            return new RequestPath(client, null, null);
        }
        var forwardedFor = string.Join(',', request.Headers["X-Forwarded-For"].ToArray()).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var lb = forwardedFor.Length > 0 && IPAddress.TryParse(forwardedFor[^1], out var last) && site.Find(ClientAddress.Normalize(last)) is { } server && server.Has("lb") ? server : null;
        return new RequestPath(client, lb, web);
    }
}
