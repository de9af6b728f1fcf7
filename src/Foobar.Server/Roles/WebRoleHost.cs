using System.Net;
using Foobar.Http;
using Foobar.Http.AccessLogs;
using Foobar.Http.Backends;
using Foobar.Http.Forwarder;
using Foobar.Http.Front;
using Foobar.Http.Health;
using Foobar.Http.ProxyProtocol;
using Foobar.Http.Tls;
using Foobar.Server.Admin;
using Foobar.Topology;
using Foobar.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Foobar.Server.Roles;

internal sealed class WebRoleHost(Topology.Topology topology, ServerSpec server, ServerPaths paths, SiteTls tls, HttpForwarder forwarder, HttpMessageInvoker checkClient, ILogger logger) : IRoleHost, IFrontRole
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

    public IReadOnlyList<int> Ports => [_topology.Web.Port];

    /// <summary>TLS ends here: the load balancers pass client connections through behind a PROXY protocol header.</summary>
    private bool TerminatesTls => _topology.Public is { HttpsPort: not null, Terminate: TlsTermination.Web };

    /// <summary>
    /// Plain HTTP, or with <c>web.tls</c> TLS only. A PROXY protocol header is accepted from the
    /// load balancers' addresses; clients that ask for the site by name get the site's own
    /// certificate when TLS ends here and the topology has one.
    /// </summary>
    public void Listen(KestrelServerOptions kestrel) => kestrel.Listen(new IPEndPoint(server.Address, _topology.Web.Port), listen =>
    {
        if (_topology.Web.Tls)
        {
            var loadBalancers = _topology.ServersWith(Role.Lb).Select(s => s.Address).ToHashSet();
            listen.UseProxyProtocol(loadBalancers.Contains);
            listen.UseTls(tls.Certificates(own: TerminatesTls));
        }
        else if (Http1Front.Enabled)
        {
            new Http1Front(forwarder, server.Name, request => _web?.Route(request))
            {
                AccessLog = _accessLog,
                QuietPath = WebServer.HealthPath,
            }.Use(listen);
        }
    });

    public void Configure(IApplicationBuilder app)
    {
        if (TerminatesTls && _topology.Public.Hsts is { } hsts)
        {
            // Plain HTTP is redirected by the load balancers; HTTPS is answered here.
            new HttpsPolicy(_topology.Public.HttpsPort!.Value, Redirect: false, hsts, _topology.SiteHost).Use(app);
        }
        _web = WebServer.Configure(app, OptionsFor(_topology), forwarder);
    }

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

    /// <summary>The app servers as this web server sees them.</summary>
    public IReadOnlyList<BackendStatus> Backends() => BackendPools.Status(_apps);

    /// <summary>Drains (<paramref name="drain"/>) or readies one app server; false when there is no such app server.</summary>
    public bool SetDraining(string server, bool drain) => BackendPools.SetDraining(_apps, server, drain, logger);

    public RoleHealth Health() => new("web", BackendPools.AnyPassing(_apps) ? RoleStates.Ready : RoleStates.Starting,
        $"static {_topology.WebRootPath}; app servers: {BackendPools.Describe(_apps)}");
}
