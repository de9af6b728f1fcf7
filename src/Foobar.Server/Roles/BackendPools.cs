using Foobar.Http.Backends;
using Foobar.Http.LoadBalancing;
using Foobar.Server.Admin;
using Foobar.Topology;
using Microsoft.Extensions.Logging;

namespace Foobar.Server.Roles;

/// <summary>The pool of the servers of one role, as seen by the tier in front of it.</summary>
internal static partial class BackendPools
{
    public static BackendPool For(Topology.Topology topology, Role role, BalanceAlgorithm balance = BalanceAlgorithm.RoundRobin,
        TimeSpan slowStart = default, QueueOptions? queue = null) => new(
        topology.ServersWith(role).Select(s => Create(topology, s, role, slowStart, BackendState.Up)).ToList(),
        Policy(balance),
        queue);

    /// <summary>
    /// Makes <paramref name="pool"/> follow <paramref name="topology"/>'s servers of <paramref name="role"/>:
    /// unchanged ones stay as they are; a changed one (address, weight, backup, maxconn) is replaced
    /// keeping its state; an added one starts down, so it gets requests once its checks pass.
    /// </summary>
    public static void Refresh(BackendPool pool, Topology.Topology topology, Role role, TimeSpan slowStart = default) =>
        pool.Replace(topology.ServersWith(role).Select(s =>
        {
            var kept = pool.Find(s.Name);
            var fresh = Create(topology, s, role, slowStart, kept?.State ?? BackendState.Down);
            if (kept is null)
            {
                return fresh;
            }
            if (kept.BaseUri == fresh.BaseUri && kept.Weight == fresh.Weight && kept.Backup == fresh.Backup && kept.MaxConcurrent == fresh.MaxConcurrent)
            {
                return kept;
            }
            fresh.Draining = kept.Draining;
            return fresh;
        }).ToList());

    private static Backend Create(Topology.Topology topology, ServerSpec server, Role role, TimeSpan slowStart, BackendState state) =>
        new(server.Name, new Uri($"{Scheme(topology, role)}://{server.Address}:{topology.PortOf(role)}/"), state, server.Weight, server.Backup)
        {
            MaxConcurrent = server.MaxConn,
            SlowStart = slowStart,
        };

    /// <summary>https for a tier that speaks TLS (<c>web.tls</c>, <c>app.tls</c>).</summary>
    private static string Scheme(Topology.Topology topology, Role role) =>
        (role == Role.Web && topology.Web.Tls) || (role == Role.App && topology.App.Tls) ? Uri.UriSchemeHttps : Uri.UriSchemeHttp;

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

    /// <summary>
    /// Whether some server of <paramref name="pool"/> is up on a passed check of its own, not just
    /// on the optimistic start: what a front tier needs before it calls itself ready, so that
    /// <c>foobar up</c> answers only once a request can get through.
    /// </summary>
    public static bool AnyPassing(BackendPool pool) => pool.Backends.Any(b => b.State == BackendState.Up && b.LastCheck is { Passed: true });

    public static string Describe(BackendPool pool) =>
        string.Join(", ", pool.Backends.Select(b => (b.State == BackendState.Up ? b.Name : $"{b.Name} (down)") + (b.Backup ? " (backup)" : "")));

    /// <summary>Every server of <paramref name="pool"/> for the admin listener.</summary>
    public static IReadOnlyList<BackendStatus> Status(BackendPool pool) => pool.Backends.Select(b => new BackendStatus(
        b.Name, b.State == BackendState.Up ? "up" : "down", b.Draining, b.Weight, b.Backup, b.ActiveRequests, b.Requests, b.Failures, b.LastCheck?.Passed, b.LastCheck?.At)).ToList();

    /// <summary>Drains or readies one server of <paramref name="pool"/>, logging a change; false when there is none by that name.</summary>
    public static bool SetDraining(BackendPool pool, string server, bool drain, ILogger logger)
    {
        var was = pool.Find(server)?.Draining;
        if (!pool.SetDraining(server, drain))
        {
            return false;
        }
        if (was != drain)
        {
            LogDraining(logger, server, drain ? "draining: no new requests" : "ready: back in rotation");
        }
        return true;
    }

    [LoggerMessage(EventId = 2100, Level = LogLevel.Warning, Message = "{Server} is {What}")]
    private static partial void LogDraining(ILogger logger, string server, string what);
}
