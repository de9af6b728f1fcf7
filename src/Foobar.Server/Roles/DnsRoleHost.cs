using System.Net;
using Foobar.Dns;
using Foobar.Server.Admin;
using Foobar.Topology;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Foobar.Server.Roles;

/// <summary>
/// The dns role: answers for the topology's domain. The site's names (the domain and www.) go to
/// the public address when the load balancers are active-passive, and to every load balancer that
/// passes its health check when they are active-active (all of them if none passes: better a
/// slow answer than none); each server's name goes to its address.
/// </summary>
internal sealed class DnsRoleHost : IRoleHost
{
    /// <summary>How often the load balancers' health is asked in active-active mode.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(500);

    private readonly Topology.Topology _topology;
    private readonly DnsServer _server;
    private readonly IPEndPoint _endPoint;
    private volatile IReadOnlyList<IPAddress> _healthyLbs;

    public DnsRoleHost(Topology.Topology topology, ServerSpec server, ILogger logger)
    {
        _topology = topology;
        _endPoint = new IPEndPoint(server.Address, topology.Dns.Port);
        _healthyLbs = AllLbs;
        var zone = new Zone(topology.Domain, Site, topology.Servers.ToDictionary(s => s.Name, s => s.Address));
        _server = new DnsServer(_endPoint, zone, logger);
    }

    public Role Role => Role.Dns;

    public IReadOnlyList<int> Ports => [];

    public void Listen(KestrelServerOptions kestrel)
    {
    }

    private bool ActiveActive => _topology.Lb.Mode == LbMode.ActiveActive;

    private IReadOnlyList<IPAddress> AllLbs => _topology.ServersWith(Role.Lb).Select(s => s.Address).ToList();

    /// <summary>The site's addresses for the next answer.</summary>
    private IReadOnlyList<IPAddress> Site() => ActiveActive ? _healthyLbs : [_topology.Public.Address];

    public void Configure(IApplicationBuilder app)
    {
    }

    public Task RunAsync(CancellationToken cancellationToken) =>
        ActiveActive ? Task.WhenAll(_server.RunAsync(cancellationToken), WatchLbsAsync(cancellationToken)) : _server.RunAsync(cancellationToken);

    /// <summary>Keeps <see cref="_healthyLbs"/> to the load balancers that answer their health check as ready.</summary>
    private async Task WatchLbsAsync(CancellationToken cancellationToken)
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(1) }) { Timeout = TimeSpan.FromSeconds(1) };
        var lbs = _topology.ServersWith(Role.Lb);
        while (!cancellationToken.IsCancellationRequested)
        {
            var ready = await Task.WhenAll(lbs.Select(async lb =>
                await ServerHealthClient.GetAsync(client, _topology.AdminEndPoint(lb), cancellationToken).ConfigureAwait(false) is { Ready: true } ? lb.Address : null))
                .ConfigureAwait(false);
            var healthy = ready.OfType<IPAddress>().ToList();
            _healthyLbs = healthy.Count > 0 ? healthy : AllLbs;
            try
            {
                await Task.Delay(CheckInterval, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public RoleHealth Health() => new("dns", RoleStates.Ready,
        $"answers for {_topology.Domain} on {_endPoint} (udp, tcp); www → {string.Join(", ", Site())}; {_server.Answered} answered");

    public void ApplyTopology(Topology.Topology topology)
    {
    }
}
