using Foobar.Http.Backends;
using Foobar.Http.Forwarder;
using Microsoft.AspNetCore.Builder;

namespace Foobar.LoadBalancer;

/// <summary>The lb role's pipeline: every request goes to the next web server.</summary>
public static class LoadBalancer
{
    /// <summary>Adds the load balancer to <paramref name="app"/>'s pipeline.</summary>
    public static void Configure(IApplicationBuilder app, string serverName, BackendPool webServers, HttpForwarder forwarder) =>
        app.Run(context => forwarder.ForwardAsync(context, webServers, serverName));
}
