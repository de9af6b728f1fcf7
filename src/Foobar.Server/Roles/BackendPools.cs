using Foobar.Http.Backends;
using Foobar.Http.LoadBalancing;
using Foobar.Topology;

namespace Foobar.Server.Roles;

/// <summary>The pool of the servers of one role, as seen by the tier in front of it.</summary>
internal static class BackendPools
{
    public static BackendPool For(Topology.Topology topology, Role role, BalanceAlgorithm balance = BalanceAlgorithm.RoundRobin,
        TimeSpan slowStart = default, QueueOptions? queue = null) => new(
        topology.ServersWith(role).Select(s => new Backend(s.Name, new Uri($"http://{s.Address}:{topology.PortOf(role)}/"), weight: s.Weight, backup: s.Backup)
        {
            MaxConcurrent = s.MaxConn,
            SlowStart = slowStart,
        }).ToList(),
        Policy(balance),
        queue);

    /// <summary>The web servers as the load balancers see them, with the lb tier's balancing, slow start and queue.</summary>
    public static BackendPool ForLoadBalancer(Topology.Topology topology) => For(topology, Role.Web, topology.Lb.Balance, topology.Lb.SlowStart,
        new QueueOptions { Length = topology.Lb.MaxQueue, Timeout = topology.Lb.QueueTimeout });

    public static ILoadBalancingPolicy Policy(BalanceAlgorithm balance) => balance switch
    {
        BalanceAlgorithm.RoundRobin => new RoundRobinPolicy(),
        BalanceAlgorithm.LeastConnections => new LeastConnectionsPolicy(),
        BalanceAlgorithm.Random => new TwoRandomChoicesPolicy(),
        BalanceAlgorithm.Source => new HashPolicy(HashPolicy.By.Source),
        BalanceAlgorithm.Uri => new HashPolicy(HashPolicy.By.Uri),
        _ => throw new ArgumentOutOfRangeException(nameof(balance), balance, "unknown algorithm"),
    };

    public static string Describe(BackendPool pool) =>
        string.Join(", ", pool.Backends.Select(b => (b.State == BackendState.Up ? b.Name : $"{b.Name} (down)") + (b.Backup ? " (backup)" : "")));
}
