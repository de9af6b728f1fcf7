using Foobar.Http.AccessLogs;
using Foobar.Http.Backends;
using Foobar.Http.Forwarder;
using Foobar.Http.Health;
using Foobar.Server.Admin;
using Foobar.Topology;
using Foobar.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Foobar.Server.Roles;

internal sealed class WebRoleHost(Topology.Topology topology, ServerSpec server, ServerPaths paths, HttpForwarder forwarder, HttpMessageInvoker checkClient, ILogger logger) : IRoleHost
{
    private readonly BackendPool _apps = BackendPools.For(topology, Role.App);
    private readonly AccessLog? _accessLog = topology.Web.AccessLog switch
    {
        WebAccessLog.Combined => new AccessLog(paths.AccessLogFile(server.Name), AccessLogFormat.Combined),
        WebAccessLog.Json => new AccessLog(paths.AccessLogFile(server.Name), AccessLogFormat.Json),
        _ => null,
    };

    public Role Role => Role.Web;

    public int? HttpPort => topology.Web.Port;

    public void Configure(IApplicationBuilder app) =>
        WebServer.Configure(app, new WebOptions(server.Name, topology.WebRootPath, topology.Web.Proxy, _apps)
        {
            AccessLog = _accessLog,
            StaticPrefixes = topology.Web.Static,
            CacheControl = topology.Web.CacheControl,
        }, forwarder);

    public Task RunAsync(CancellationToken cancellationToken) => Task.WhenAll(
        new ActiveHealthChecker(_apps, new HealthCheckOptions { Path = topology.Web.CheckPath, Interval = topology.Web.CheckInterval }, checkClient, TimeProvider.System, logger).RunAsync(cancellationToken),
        _accessLog?.RunAsync(cancellationToken) ?? Task.CompletedTask);

    public void ApplyTopology(Topology.Topology topology) => BackendPools.Refresh(_apps, topology, Role.App);

    public RoleHealth Health() => new("web", RoleStates.Ready, $"static {topology.WebRootPath}; app servers: {BackendPools.Describe(_apps)}");
}
