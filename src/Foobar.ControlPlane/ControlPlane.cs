using Foobar.ControlPlane.Api;
using Foobar.ControlPlane.Database;
using Foobar.ControlPlane.Health;
using Foobar.ControlPlane.Processes;
using Foobar.Topology.Loading;
using Foobar.ControlPlane.Preflight;
using Foobar.ControlPlane.Reload;
using Foobar.ControlPlane.Rotation;
using Foobar.ControlPlane.State;
using Foobar.ControlPlane.Status;
using Foobar.ControlPlane.Supervision;
using Foobar.Server.Admin;
using Foobar.Topology;
using Foobar.Server.Processes;

namespace Foobar.ControlPlane;

/// <summary>
/// Starts every server of a topology as a child process, supervises them, and serves the control
/// API on the state directory's socket until shut down; then stops them all.
/// </summary>
public sealed class ControlPlane
{
    /// <summary>How long a server gets to finish in-flight requests before SIGKILL. Default 10 s.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    private readonly StateDirectory _state;
    private readonly TimeProvider _timeProvider;
    private readonly IServerLauncher _launcher;
    private readonly RestartPolicy _policy;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Dictionary<ServerSupervisor, (CancellationTokenSource Stop, Task Loop)> _supervision = [];
    private readonly SemaphoreSlim _reloading = new(1, 1);
    private volatile Roster _roster;
    private CancellationToken _running;
    private readonly DbTier? _db;
    private readonly IReadOnlyList<FrontTier> _fronts;

    /// <summary>A control plane that starts real <c>foobar serve</c> processes.</summary>
    public ControlPlane(Topology.Topology topology, StateDirectory state)
        : this(topology, state, new ServerProcessLauncher(state), TimeProvider.System, new RestartPolicy())
    {
        _db = DbTier.Create(topology, new Foobar.Server.ServerPaths(state.Root), TimeProvider.System, Events);
    }

    internal ControlPlane(Topology.Topology topology, StateDirectory state, IServerLauncher launcher, TimeProvider timeProvider, RestartPolicy policy)
    {
        _state = state;
        _timeProvider = timeProvider;
        _launcher = launcher;
        _policy = policy;
        Events = new EventLog(timeProvider, state.EventsFile);
        _roster = new Roster(topology, topology.Servers.Select(s => NewSupervisor(s.Name)).ToList());
        _fronts = [.. new[] { Role.Lb, Role.Web }.Select(front => new FrontTier(front, topology, state.DrainedFile(front.Name()), Events, ReadinessOf))];
    }

    /// <summary>The topology in force and a supervisor for each of its servers, replaced together by a reload.</summary>
    private sealed record Roster(Topology.Topology Topology, IReadOnlyList<ServerSupervisor> Supervisors);

    private ServerSupervisor NewSupervisor(string name) => new(name, _launcher, _policy, _timeProvider, Events);

    /// <summary>Supervision events.</summary>
    public EventLog Events { get; }

    /// <summary>Runs until <paramref name="cancellationToken"/> or <see cref="RequestShutdown"/>, then stops every server.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _shutdown.Token);
        using var loops = new CancellationTokenSource();
        PidFile.Write(_state.ControlPlanePidFile, ProcessIdentity.Of(Environment.ProcessId)!);
        await using var api = await ControlApi.StartAsync(this, _state).ConfigureAwait(false);
        _running = loops.Token;
        var roster = _roster;
        foreach (var supervisor in roster.Supervisors)
        {
            Supervise(supervisor);
        }
        var health = new HealthMonitor(() => _roster.Topology, () => _roster.Supervisors, _timeProvider).RunAsync(loops.Token);
        var orchestration = _db is null ? Task.CompletedTask : RunLoopAsync(_db.Orchestrator.RunAsync, loops.Token);
        var rotation = Task.WhenAll(_fronts.Select(f => RunLoopAsync(f.RunAsync, loops.Token)));
        Events.Record("control-plane", $"starting {roster.Supervisors.Count} servers of {roster.Topology.SiteHost}");
        foreach (var supervisor in roster.Supervisors)
        {
            supervisor.Start();
        }
        try
        {
            await Task.Delay(Timeout.Infinite, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        Events.Record("control-plane", "stopping every server");
        await StopAllAsync().ConfigureAwait(false);
        await loops.CancelAsync().ConfigureAwait(false);
        List<Task> supervision;
        lock (_supervision)
        {
            supervision = [.. _supervision.Values.Select(v => v.Loop)];
        }
        await Task.WhenAll([.. supervision, health, orchestration, rotation]).ConfigureAwait(false);
        foreach (var front in _fronts)
        {
            front.Dispose();
        }
        if (_db is not null)
        {
            await _db.DisposeAsync().ConfigureAwait(false);
        }
        Events.Record("control-plane", "stopped");
        PidFile.Delete(_state.ControlPlanePidFile);
    }

    /// <summary>Asks <see cref="RunAsync"/> to stop everything and return.</summary>
    public void RequestShutdown() => _shutdown.Cancel();

    /// <summary>The state of everything now.</summary>
    public StatusReport Snapshot()
    {
        var now = _timeProvider.GetUtcNow();
        var (topology, supervisors) = _roster;
        var servers = supervisors.Select(s =>
        {
            var spec = topology.Find(s.Name)!;
            var health = s.Health;
            return new ServerStatus(
                s.Name,
                spec.Roles.Select(r => r.Name()).ToList(),
                spec.Address.ToString(),
                s.State.ToString().ToLowerInvariant(),
                s.Process?.Identity.Pid,
                s.StartedAt is { } started ? Math.Round((now - started).TotalSeconds, 1) : null,
                s.Restarts,
                s.State == ServerState.Running && health is { Ready: true },
                health?.Roles ?? [],
                s.LastEvent?.Message);
        }).ToList();
        var serving = servers.Where(s => s.RoleHealth.Any(r => r.Role == "lb" && r.State == RoleStates.Ready)).ToList();
        var pub = topology.Public;
        // Active-active: no shared address; every ready load balancer serves on its own, and DNS hands them out.
        var (address, port, heldBy) = topology.Lb.Mode == LbMode.ActiveActive
            ? ((serving.FirstOrDefault()?.Address ?? topology.ServersWith(Role.Lb).First().Address.ToString()), topology.Lb.Port,
                serving.Count > 0 ? string.Join(", ", serving.Select(s => s.Name)) : null)
            : (pub.Address.ToString(), pub.HttpPort, serving.FirstOrDefault()?.Name);
        var direct = pub.HttpsPort is { } securePort
            ? (securePort == 443 ? $"https://{address}/" : $"https://{address}:{securePort}/")
            : (port == 80 ? $"http://{address}/" : $"http://{address}:{port}/");
        // With HTTPS the hint goes there, trusting the local authority unless the topology brings its own certificate.
        var curlPort = pub.HttpsPort ?? port;
        var authority = pub.HttpsPort is not null && pub.Certificate is null ? Path.Combine(_state.Root, "tls", "ca.crt") : null;
        var trust = authority is null ? "" : $" --cacert {authority}";
        var publicStatus = new PublicStatus(topology.SiteHost, address, port, pub.Url(topology.Domain), direct,
            $"curl -i --resolve {topology.SiteHost}:{curlPort}:{address}{trust} {pub.Url(topology.Domain)}", heldBy, authority);
        return new StatusReport(topology.Domain, _state.Root, Environment.ProcessId, publicStatus, servers, Events.Recent());
    }

    /// <summary>The database tier: roles, positions, lag, semi-sync, alerts.</summary>
    /// <exception cref="InvalidOperationException">The topology has no db server.</exception>
    public DbStatusReport DbStatus() => (_db ?? throw NoDatabase()).Report();

    /// <summary>A planned change of primary (<c>foobar db switchover</c>).</summary>
    /// <exception cref="InvalidOperationException">It cannot be done now; nothing changed. The message says why.</exception>
    public Task<string> SwitchoverAsync(string? target, CancellationToken cancellationToken) =>
        (_db ?? throw NoDatabase()).Orchestrator.SwitchoverAsync(target, cancellationToken);

    /// <summary>
    /// Stops (<paramref name="drain"/>) or resumes sending new requests to a server behind the
    /// <paramref name="front"/> tier: a web server on every load balancer (<c>foobar lb drain</c>),
    /// an app server on every web server (<c>foobar web drain</c>).
    /// </summary>
    /// <exception cref="ArgumentException">Not a server of the tier behind; the message lists them.</exception>
    public Task<string> SetDrainingAsync(Role front, string server, bool drain, CancellationToken cancellationToken) =>
        FrontOf(front).SetAsync(server, drain, cancellationToken);

    private FrontTier FrontOf(Role front) => _fronts.FirstOrDefault(f => f.Front == front)
        ?? throw new ArgumentException($"{front.Name()} has no tier behind it; use lb (web servers) or web (app servers)");

    /// <summary>Whether <paramref name="name"/> runs, as which process, and is ready: what a front tier waits for before it sends requests again.</summary>
    private FrontTier.Readiness ReadinessOf(string name) =>
        _roster.Supervisors.FirstOrDefault(s => s.Name == name) is { } supervisor
            ? new(supervisor.Process?.Identity.Pid, supervisor.State == ServerState.Running && supervisor.Health is { Ready: true })
            : default;

    /// <summary>The front tiers with <paramref name="server"/> behind them: the load balancers for a web server, the web servers for an app server.</summary>
    private List<FrontTier> FrontsOf(string server) =>
        _roster.Topology.Find(server) is { } spec ? _fronts.Where(f => spec.Has(f.Behind)).ToList() : [];

    private static InvalidOperationException NoDatabase() => new("this topology has no db server");

    /// <summary>Carries out an operator's command on one server.</summary>
    /// <returns>A sentence for the operator.</returns>
    /// <exception cref="ArgumentException">Unknown server or action; the message says which exist.</exception>
    public async Task<string> ActAsync(string serverName, string action)
    {
        var supervisors = _roster.Supervisors;
        var supervisor = supervisors.FirstOrDefault(s => s.Name == serverName)
            ?? throw new ArgumentException($"no server '{serverName}'; servers: {string.Join(", ", supervisors.Select(s => s.Name))}");
        var pid = supervisor.Process?.Identity.Pid;
        switch (action)
        {
            case "kill":
                await supervisor.KillAsync().ConfigureAwait(false);
                return pid is null ? $"{serverName} was not running; it stays down until 'foobar start {serverName}'"
                    : $"{serverName} killed (SIGKILL to pid {pid}); it stays down until 'foobar start {serverName}'";
            case "stop":
                var left = await LeaveRotationAsync(supervisor).ConfigureAwait(false);
                await StopAsync(supervisor, _roster.Topology).ConfigureAwait(false);
                return $"{left}{serverName} stopped";
            case "start":
                supervisor.Start();
                return $"{serverName} starting";
            case "restart":
                var leaving = await LeaveRotationAsync(supervisor).ConfigureAwait(false);
                await StopAsync(supervisor, _roster.Topology).ConfigureAwait(false);
                supervisor.Start();
                return $"{leaving}{serverName} restarting";
            default:
                throw new ArgumentException($"unknown action '{action}'; use kill, stop, start or restart");
        }
    }

    /// <summary>
    /// Restarts every server of <paramref name="tier"/> (web or app) one at a time, each out of
    /// rotation while it restarts and back before the next (<c>foobar rollout</c>, <see cref="RollingRestart"/>).
    /// </summary>
    /// <returns>A line per server for the operator.</returns>
    /// <exception cref="ArgumentException">Not a tier a rollout covers; the message says what to do instead.</exception>
    /// <exception cref="InvalidOperationException">A server did not come back; the rollout stopped there.</exception>
    public async Task<string> RolloutAsync(Role tier, CancellationToken cancellationToken)
    {
        if (!RollingRestart.Covers(tier))
        {
            throw new ArgumentException(tier switch
            {
                Role.Lb => "a rollout covers web and app; restart the standby load balancer, then the active one (the standby takes the public address over)",
                Role.Db => "a rollout covers web and app; for the database, restart a replica, 'foobar db switchover' to it, then restart the old primary",
                _ => $"a rollout covers web and app, not {tier.Name()}",
            });
        }
        await _reloading.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var (topology, supervisors) = _roster;
            var servers = supervisors.Where(s => topology.Find(s.Name)!.Has(tier)).ToList();
            if (servers.Count < 2)
            {
                throw new InvalidOperationException($"the topology has {servers.Count} {tier.Name()} server(s): a rollout needs two, so one serves while the other restarts; use 'foobar restart' instead");
            }
            Events.Record("rollout", $"{tier.Name()}: restarting {string.Join(", ", servers.Select(s => s.Name))} one at a time");
            return await new RollingRestart(FrontsOf, Events, StopGrace).RunAsync(servers, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _reloading.Release();
        }
    }

    /// <summary>
    /// Takes a web or app server out of rotation on the tiers in front of it and waits for their
    /// requests to it to finish, before it is stopped: so stopping or restarting it fails no
    /// request, a POST whose body is on its way included. It returns to rotation once it runs
    /// again and is ready. Returns the sentences for the operator, each ending a line.
    /// </summary>
    private async Task<string> LeaveRotationAsync(ServerSupervisor supervisor)
    {
        var lines = "";
        foreach (var front in FrontsOf(supervisor.Name))
        {
            lines += await front.LeaveAsync(supervisor.Name, supervisor.Process?.Identity.Pid, StopGrace, _running).ConfigureAwait(false) + Environment.NewLine;
        }
        return lines;
    }

    /// <summary>
    /// Applies a changed topology file to the running infrastructure (<c>foobar reload</c>): added
    /// web and app servers start, and the tiers in front take them into rotation once their checks
    /// pass; removed ones leave every front tier's rotation first, then stop after finishing their
    /// requests; changed weights, backups and maxconns apply at once. No connection is dropped:
    /// the load balancers and web servers keep running and only their pools change.
    /// </summary>
    /// <returns>A sentence for the operator: what changed, which servers follow it.</returns>
    /// <exception cref="TopologyException">The file does not load; every problem is listed.</exception>
    /// <exception cref="InvalidOperationException">The change is more than a reload applies, or an added server's address is in use; nothing changed.</exception>
    public async Task<string> ReloadAsync(string topologyFile, CancellationToken cancellationToken)
    {
        await _reloading.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var running = _roster;
            var next = TopologyLoader.Load(topologyFile);
            var change = TopologyChange.Between(running.Topology, next);
            if (change.IsEmpty)
            {
                return "nothing to change: the running topology has the same servers";
            }
            if (AddressCheck.FindConflicts(next, change.Added) is { Count: > 0 } conflicts)
            {
                throw new InvalidOperationException("cannot add: " + string.Join("; ", conflicts));
            }
            TopologySnapshot.Save(_state, topologyFile);
            var removed = running.Supervisors.Where(s => change.Removed.Any(r => r.Name == s.Name)).ToList();
            var added = change.Added.Select(s => NewSupervisor(s.Name)).ToList();
            _roster = new Roster(next, [.. running.Supervisors.Except(removed), .. added]);
            foreach (var front in _fronts)
            {
                front.Follow(next);
            }
            foreach (var supervisor in added)
            {
                Supervise(supervisor);
                supervisor.Start();
            }
            var told = await TellServersAsync(next, change, cancellationToken).ConfigureAwait(false);
            foreach (var supervisor in removed)
            {
                // Out of its fronts' pools already: they follow the new topology.
                await StopAsync(supervisor, running.Topology).ConfigureAwait(false);
                await UnsuperviseAsync(supervisor).ConfigureAwait(false);
            }
            var message = $"{change}; {told}";
            Events.Record("control-plane", "reload: " + message);
            return message;
        }
        finally
        {
            _reloading.Release();
        }
    }

    /// <summary>Asks every running server that stays to read the topology again; says who follows it.</summary>
    private async Task<string> TellServersAsync(Topology.Topology next, TopologyChange change, CancellationToken cancellationToken)
    {
        // Reading the topology again takes milliseconds; a server busy with a load test may take longer to answer.
        using var client = ServerAdminClient.Create(TimeSpan.FromSeconds(10));
        var stays = next.Servers.Where(s => !change.Added.Contains(s) && s.Roles.Any(r => r is Role.Lb or Role.Web)).ToList();
        var answers = await Task.WhenAll(stays.Select(async server =>
        {
            try
            {
                using var response = await client.PostAsync(new Uri($"http://{next.AdminEndPoint(server)}{AdminPaths.TopologyReload}"), null, cancellationToken).ConfigureAwait(false);
                return (server.Name, Ok: response.IsSuccessStatusCode);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return (server.Name, Ok: false);
            }
        })).ConfigureAwait(false);
        var following = answers.Where(a => a.Ok).Select(a => a.Name).ToList();
        var silent = answers.Where(a => !a.Ok).Select(a => a.Name).ToList();
        return (following.Count > 0 ? $"{string.Join(", ", following)} follow it" : "no front server answered")
            + (silent.Count > 0 ? $"; {string.Join(", ", silent)} did not answer and will read it when restarted" : "");
    }

    /// <summary>
    /// Front tiers first, so no server is handed requests by a tier that outlives it. The web and
    /// app servers stop together, told to stop now (no lame duck, <see cref="Foobar.Http.ServerLeaving"/>):
    /// once the load balancers are gone, after their requests in flight, nothing new reaches either.
    /// </summary>
    private async Task StopAllAsync()
    {
        (Role Role, int Rank)[] order = [(Role.Lb, 0), (Role.Web, 1), (Role.App, 1), (Role.Db, 2), (Role.Dns, 3)];
        var (topology, supervisors) = _roster;
        foreach (var tier in supervisors.GroupBy(s => order.Min(r => topology.Find(s.Name)!.Has(r.Role) ? r.Rank : int.MaxValue)).OrderBy(g => g.Key))
        {
            await Task.WhenAll(tier.Select(s => StopAsync(s, topology))).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Stops a server. The control plane stops a web or app server only once nothing sends it
    /// requests (drained, out of its fronts' pools, or behind load balancers already stopped), so
    /// it is told to stop now (SIGINT) rather than to leave rotation first (SIGTERM, its lame duck).
    /// </summary>
    private Task StopAsync(ServerSupervisor supervisor, Topology.Topology topology) =>
        supervisor.StopAsync(StopGrace, drained: topology.Find(supervisor.Name) is { } spec && (spec.Has(Role.Web) || spec.Has(Role.App)));

    /// <summary>Runs <paramref name="supervisor"/>'s loop until the control plane stops or the server leaves the topology.</summary>
    private void Supervise(ServerSupervisor supervisor)
    {
        lock (_supervision)
        {
            var stop = CancellationTokenSource.CreateLinkedTokenSource(_running);
            _supervision[supervisor] = (stop, RunLoopAsync(supervisor.RunAsync, stop.Token));
        }
    }

    private async Task UnsuperviseAsync(ServerSupervisor supervisor)
    {
        (CancellationTokenSource Stop, Task Loop) entry;
        lock (_supervision)
        {
            if (!_supervision.Remove(supervisor, out entry))
            {
                return;
            }
        }
        await entry.Stop.CancelAsync().ConfigureAwait(false);
        await entry.Loop.ConfigureAwait(false);
        entry.Stop.Dispose();
    }

    private static async Task RunLoopAsync(Func<CancellationToken, Task> loop, CancellationToken cancellationToken)
    {
        try
        {
            await loop(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
