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
    private WebServer? _web;
    private Topology.Topology _topology = topology;

    private readonly AccessLog? _accessLog = topology.Web.AccessLog switch
    {
        WebAccessLog.Combined => new AccessLog(paths.AccessLogFile(server.Name), AccessLogFormat.Combined),
        WebAccessLog.Json => new AccessLog(paths.AccessLogFile(server.Name), AccessLogFormat.Json),
        _ => null,
    };

    public Role Role => Role.Web;

    public int? HttpPort => _topology.Web.Port;

    public void Configure(IApplicationBuilder app) => _web = WebServer.Configure(app, OptionsFor(_topology), forwarder);

    private WebOptions OptionsFor(Topology.Topology next) => new(server.Name, next.WebRootPath, next.Web.Proxy, _apps)
    {
        AccessLog = _accessLog,
        StaticPrefixes = next.Web.Static,
        CacheControl = next.Web.CacheControl,
    };

    public Task RunAsync(CancellationToken cancellationToken) => Task.WhenAll(
        new ActiveHealthChecker(_apps, new HealthCheckOptions { Path = _topology.Web.CheckPath, Interval = _topology.Web.CheckInterval }, checkClient, TimeProvider.System, logger).RunAsync(cancellationToken),
        _accessLog?.RunAsync(cancellationToken) ?? Task.CompletedTask);

    /// <summary>App servers added or removed; the root, prefixes and Cache-Control rules (<c>foobar reload</c>).</summary>
    public void ApplyTopology(Topology.Topology next)
    {
        BackendPools.Refresh(_apps, next, Role.App);
        _web?.Apply(OptionsFor(next));
        _topology = next;
    }

    public RoleHealth Health() => new("web", RoleStates.Ready, $"static {_topology.WebRootPath}; app servers: {BackendPools.Describe(_apps)}");
}
