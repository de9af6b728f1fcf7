using Foobar.Http.Backends;
using Foobar.Http.Forwarder;
using Foobar.Http.Health;
using Foobar.Server.Admin;
using Foobar.Topology;
using Foobar.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Foobar.Server.Roles;

internal sealed class WebRoleHost(Topology.Topology topology, ServerSpec server, HttpForwarder forwarder, HttpMessageInvoker checkClient, ILogger logger) : IRoleHost
{
    private readonly BackendPool _apps = BackendPools.For(topology, Role.App);

    public Role Role => Role.Web;

    public int? HttpPort => topology.Web.Port;

    public void Configure(IApplicationBuilder app) =>
        WebServer.Configure(app, new WebOptions(server.Name, topology.WebRootPath, topology.Web.Proxy, _apps), forwarder);

    public Task RunAsync(CancellationToken cancellationToken) =>
        new ActiveHealthChecker(_apps, new HealthCheckOptions { Path = topology.Web.CheckPath, Interval = topology.Web.CheckInterval }, checkClient, TimeProvider.System, logger).RunAsync(cancellationToken);

    public void ApplyTopology(Topology.Topology topology) => BackendPools.Refresh(_apps, topology, Role.App);

    public RoleHealth Health() => new("web", RoleStates.Ready, $"static {topology.WebRootPath}; app servers: {BackendPools.Describe(_apps)}");
}
