using System.Net;
using Foobar.Http.Backends;
using Foobar.Http.Forwarder;
using Foobar.Http.Health;
using Foobar.LoadBalancer;
using Foobar.Server.Admin;
using Foobar.Topology;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Foobar.Server.Roles;

internal sealed class LbRoleHost : IRoleHost
{
    private readonly Topology.Topology _topology;
    private readonly ServerSpec _server;
    private readonly HttpForwarder _forwarder;
    private readonly HttpMessageInvoker _checkClient;
    private readonly ILogger _logger;
    private readonly BackendPool _webServers;
    private readonly PublicAddressClaim _claim;

    public LbRoleHost(Topology.Topology topology, ServerSpec server, HttpForwarder forwarder, HttpMessageInvoker checkClient, ILogger logger)
    {
        _topology = topology;
        _server = server;
        _forwarder = forwarder;
        _checkClient = checkClient;
        _logger = logger;
        _webServers = BackendPools.For(topology, Role.Web, topology.Lb.Balance);
        _claim = new PublicAddressClaim(new IPEndPoint(topology.Public.Address, topology.Public.HttpPort), Configure,
            PublicAddressClaim.DefaultRetryInterval, TimeProvider.System, logger);
    }

    public Role Role => Role.Lb;

    public int? HttpPort => _topology.Lb.Port;

    public void Configure(IApplicationBuilder app) => LoadBalancer.LoadBalancer.Configure(app, _server.Name, _webServers, _forwarder);

    public Task RunAsync(CancellationToken cancellationToken) => Task.WhenAll(
        new ActiveHealthChecker(_webServers, new HealthCheckOptions
        {
            Path = _topology.Lb.CheckPath,
            Interval = _topology.Lb.CheckInterval,
            FastInterval = _topology.Lb.CheckFastInterval,
            Timeout = _topology.Lb.CheckTimeout,
            Rise = _topology.Lb.CheckRise,
            Fall = _topology.Lb.CheckFall,
            ExpectedStatus = _topology.Lb.CheckStatus,
        }, _checkClient, TimeProvider.System, _logger).RunAsync(cancellationToken),
        _claim.RunAsync(cancellationToken));

    public RoleHealth Health() => new("lb",
        _claim.Held ? RoleStates.Ready : RoleStates.Standby,
        $"{(_claim.Held ? "active, holds" : "standby for")} {_claim.EndPoint}; web servers: {BackendPools.Describe(_webServers)}");
}
