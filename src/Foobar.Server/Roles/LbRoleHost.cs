using System.Net;
using Foobar.Http.Backends;
using Foobar.Http.Forwarder;
using Foobar.Http;
using Foobar.Http.Front;
using Foobar.Http.Health;
using Foobar.Http.Passthrough;
using Foobar.Http.Tls;
using Foobar.LoadBalancer;
using Foobar.LoadBalancer.Stats;
using Foobar.Server.Admin;
using Foobar.Server.Pair;
using Foobar.Topology;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Foobar.Server.Roles;

internal sealed partial class LbRoleHost : IRoleHost, IFrontRole
{
    private readonly Topology.Topology _topology;
    private readonly ServerSpec _server;
    private readonly HttpForwarder _forwarder;
    private readonly HttpMessageInvoker _checkClient;
    private readonly ILogger _logger;
    private readonly BackendPool _webServers;
    private readonly PublicAddressClaim _claim;
    private readonly HttpsPolicy? _https;
    private readonly Action<ListenOptions>? _httpsListener;
    private readonly Http1Front? _front;

    public LbRoleHost(Topology.Topology topology, ServerSpec server, SiteTls tls, HttpMessageInvoker checkClient, ILogger<HttpForwarder> forwarderLogger, ILogger logger)
    {
        _topology = topology;
        _server = server;
        _forwarder = new HttpForwarder(ForwarderClient.Create(topology.Lb.TimeoutConnect, tls.HopAuthority, server.Address), forwarderLogger)
        {
            ResponseTimeout = topology.Lb.TimeoutServer,
            ConnectTimeout = topology.Lb.TimeoutConnect,
            Http2Backends = true,
            LocalAddress = server.Address,
        };
        _checkClient = checkClient;
        _logger = logger;
        _webServers = BackendPools.ForLoadBalancer(topology);
        var https = topology.Public.HttpsPort;
        _https = https is { } port ? new HttpsPolicy(port, topology.Public.Redirect, topology.Public.Hsts, topology.SiteHost) : null;
        _httpsListener = https is null ? null : HttpsListener(topology, server, tls, _webServers, logger);
        _front = Http1Front.Enabled ? new Http1Front(_forwarder, server.Name, Route) { IdleTimeout = topology.Lb.TimeoutClient } : null;
        // The standby's watch probes the address on its heartbeat thread and nudges the claim (StandbyWatch).
        _claim = new PublicAddressClaim(new IPEndPoint(topology.Public.Address, topology.Public.HttpPort), Configure,
            PublicAddressClaim.WhenNudged, TimeProvider.System, logger)
        {
            IdleTimeout = topology.Lb.TimeoutClient,
            HttpsEndPoint = https is { } p ? new IPEndPoint(topology.Public.Address, p) : null,
            Http = _front is null ? null : listen => _front.Use(listen),
            Https = _httpsListener,
        };
    }

    /// <summary>
    /// What the HTTPS port does: ends TLS here with the site's certificate (loaded now, so a bad
    /// file stops the server at start), or passes connections through to the web servers.
    /// </summary>
    private static Action<ListenOptions> HttpsListener(Topology.Topology topology, ServerSpec server, SiteTls tls, BackendPool webServers, ILogger logger)
    {
        if (topology.Public.Terminate == TlsTermination.Web)
        {
            return new TcpPassthrough(webServers, logger)
            {
                ConnectTimeout = topology.Lb.TimeoutConnect,
                IdleTimeout = topology.Lb.TimeoutClient,
                LocalAddress = server.Address,
            }.Use;
        }
        var certificates = tls.Certificates(own: true);
        return listen => listen.UseTls(certificates);
    }

    public Role Role => Role.Lb;

    public IReadOnlyList<int> Ports => ActiveActive && _topology.Public.HttpsPort is { } https ? [_topology.Lb.Port, https] : [_topology.Lb.Port];

    /// <summary>The load balancer's own address: plain HTTP, and in active-active HTTPS as on the public address.</summary>
    public void Listen(KestrelServerOptions kestrel)
    {
        kestrel.Listen(new IPEndPoint(_server.Address, _topology.Lb.Port), listen => _front?.Use(listen));
        if (ActiveActive && _topology.Public.HttpsPort is { } https)
        {
            kestrel.Listen(new IPEndPoint(_server.Address, https), _httpsListener!);
        }
    }

    /// <summary>Where the front sends a plain-HTTP request: to the web servers, unless plain HTTP is redirected to HTTPS (Kestrel's pipeline answers that).</summary>
    private FrontRoute? Route(IFrontRequest request) =>
        _https is { Redirect: true } ? null : new FrontRoute(_webServers, null);

    public void Configure(IApplicationBuilder app)
    {
        _https?.Use(app);
        LoadBalancer.LoadBalancer.Configure(app, _server.Name, _webServers, _forwarder, _topology.Lb.MaxBody);
    }

    /// <summary>Active-active: both load balancers serve on their own addresses and DNS hands out both; no public address to hold.</summary>
    private bool ActiveActive => _topology.Lb.Mode == LbMode.ActiveActive;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var checks = new ActiveHealthChecker(_webServers, new HealthCheckOptions
        {
            Path = _topology.Lb.CheckPath,
            Interval = _topology.Lb.CheckInterval,
            FastInterval = _topology.Lb.CheckFastInterval,
            Timeout = _topology.Lb.CheckTimeout,
            Rise = _topology.Lb.CheckRise,
            Fall = _topology.Lb.CheckFall,
            ExpectedStatus = _topology.Lb.CheckStatus,
        }, _checkClient, TimeProvider.System, _logger).RunAsync(cancellationToken);
        if (ActiveActive)
        {
            await checks.ConfigureAwait(false);
            return;
        }
        // Every load balancer of the pair answers heartbeats (the standby of now may hold the address later); the standby asks.
        using var responder = HeartbeatResponder.Start(_topology.AdminEndPoint(_server), _server.Name, Environment.ProcessId, () => _claim.Held, _logger);
        var peers = _topology.ServersWith(Role.Lb).Where(s => s.Name != _server.Name).Select(s => (s.Name, _topology.AdminEndPoint(s))).ToList();
        using var watch = new StandbyWatch(peers, _claim, _server.Address, _topology.Lb.TakeoverAfter, TimeProvider.System, _logger);
        await Task.WhenAll(checks, watch.RunAsync(cancellationToken), _claim.RunAsync(cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Prometheus text for <c>/metrics</c>.</summary>
    public string Metrics() => PrometheusMetrics.Render(_server.Name, _webServers);

    /// <summary>HTML for <c>/stats</c>.</summary>
    public string StatsPage() => Foobar.LoadBalancer.Stats.StatsPage.Render(_server.Name, _webServers, TimeProvider.System.GetUtcNow());

    /// <summary>The web servers as this load balancer sees them.</summary>
    public IReadOnlyList<BackendStatus> Backends() => BackendPools.Status(_webServers);

    /// <summary>Drains (<paramref name="drain"/>) or readies one web server; false when there is no such web server.</summary>
    public bool SetDraining(string server, bool drain) => BackendPools.SetDraining(_webServers, server, drain, _logger);

    public void ApplyTopology(Topology.Topology topology) => BackendPools.Refresh(_webServers, topology, Role.Web, _topology.Lb.SlowStart);

    public RoleHealth Health()
    {
        var webServers = $"web servers: {BackendPools.Describe(_webServers)}";
        if (!BackendPools.AnyPassing(_webServers))
        {
            return new("lb", RoleStates.Starting, $"no web server has passed a check yet; {webServers}");
        }
        return ActiveActive
            ? new("lb", RoleStates.Ready, $"active-active, serves {_server.Address}:{_topology.Lb.Port}; {webServers}")
            : new("lb", _claim.Held ? RoleStates.Ready : RoleStates.Standby,
                $"{(_claim.Held ? "active, holds" : "standby for")} {_claim.EndPoint}; {webServers}");
    }
}
