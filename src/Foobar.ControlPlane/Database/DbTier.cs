using Foobar.App.Data;
using Foobar.ControlPlane.Supervision;
using Foobar.Db.Accounts;
using Foobar.Db.Cluster;
using Foobar.Db.Orchestration;
using Foobar.Server;
using Foobar.Topology;

namespace Foobar.ControlPlane.Database;

/// <summary>The control plane's part of the database tier: the orchestrator and what it reports.</summary>
internal sealed class DbTier : IAsyncDisposable
{
    private readonly ClusterAdmin _admin;
    private readonly IReadOnlyList<DbNode> _nodes;
    private readonly PrimaryAnnouncer _announcer;

    private DbTier(ClusterAdmin admin, IReadOnlyList<DbNode> nodes, Orchestrator orchestrator, PrimaryAnnouncer announcer)
    {
        _admin = admin;
        _nodes = nodes;
        _announcer = announcer;
        Orchestrator = orchestrator;
        Orchestrator.PrimaryWritable += announcer.Announce;
    }

    public Orchestrator Orchestrator { get; }

    /// <summary>The tier of <paramref name="topology"/>, or null when it has no db server.</summary>
    public static DbTier? Create(Topology.Topology topology, ServerPaths paths, TimeProvider time, EventLog events)
    {
        var servers = topology.ServersWith(Role.Db);
        if (servers.Count == 0)
        {
            return null;
        }
        var credentials = DbCredentials.LoadOrCreate(paths.DbCredentialsFile);
        var admin = new ClusterAdmin(credentials, topology.ControlAddress);
        var nodes = servers.Select(s => new DbNode(s.Name, s.Address, topology.Db.Port)).ToList();
        var orchestrator = new Orchestrator(nodes, (topology.DbPrimary ?? servers[0]).Name, admin,
            new OrchestratorOptions { FailoverBlock = topology.Db.FailoverBlock, DiskReserve = topology.Db.DiskReserve },
            paths.ClusterStateFile, time, line => events.Record("orchestrator", line), GuestbookSchema.Migrations);
        return new DbTier(admin, nodes, orchestrator, new PrimaryAnnouncer(topology, events));
    }

    public DbStatusReport Report()
    {
        var state = Orchestrator.State;
        var statuses = Orchestrator.Statuses;
        var alerts = Orchestrator.Alerts;
        var servers = _nodes.Select(node =>
        {
            if (!statuses.TryGetValue(node.Name, out var s))
            {
                return new DbServerStatus(node.Name, $"{node.Address}:{node.Port}", "unknown", null, "", null, null, null, null, "not probed yet", null);
            }
            var role = !s.Reachable ? "unreachable"
                : node.Name == state.Primary ? "primary"
                : alerts.ContainsKey(node.Name) && s.ReplicaOf is null ? "kept out"
                : "replica";
            var replicaOf = _nodes.FirstOrDefault(n => n.Address.ToString() == s.ReplicaOf)?.Name ?? s.ReplicaOf;
            var replication = s.ReplicaOf is null ? null : s.LastIoError ?? s.LastSqlError ?? $"IO {s.IoRunning}, SQL {s.SqlRunning}";
            var semiSync = node.Name != state.Primary || !s.Reachable ? null
                : !s.SemiSyncEnabled ? "off (no replica has caught up yet)"
                : s.SemiSyncActive ? $"on, {s.SemiSyncClients} replica(s)"
                : "OFF (timed out: commits are not acknowledged by a replica)";
            return new DbServerStatus(node.Name, $"{node.Address}:{node.Port}", role, s.Reachable ? s.ReadOnly : null, s.GtidCurrentPos, replicaOf, replication, s.SecondsBehind, semiSync, s.Error, s.DiskFreeBytes);
        }).ToList();
        return new DbStatusReport(state.Primary, state.Epoch, state.LastFailoverAt, servers, alerts.Values.ToList());
    }

    public async ValueTask DisposeAsync()
    {
        Orchestrator.PrimaryWritable -= _announcer.Announce;
        _announcer.Dispose();
        await _admin.DisposeAsync().ConfigureAwait(false);
    }
}
