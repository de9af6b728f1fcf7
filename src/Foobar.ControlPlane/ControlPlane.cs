using Foobar.ControlPlane.Api;
using Foobar.ControlPlane.Database;
using Foobar.ControlPlane.LoadBalancing;
using Foobar.ControlPlane.Health;
using Foobar.ControlPlane.Processes;
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

    private readonly Topology.Topology _topology;
    private readonly StateDirectory _state;
    private readonly TimeProvider _timeProvider;
    private readonly List<ServerSupervisor> _supervisors;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly DbTier? _db;
    private readonly LbTier _lb;

    /// <summary>A control plane that starts real <c>foobar serve</c> processes.</summary>
    public ControlPlane(Topology.Topology topology, StateDirectory state)
        : this(topology, state, new ServerProcessLauncher(state), TimeProvider.System, new RestartPolicy())
    {
        _db = DbTier.Create(topology, new Foobar.Server.ServerPaths(state.Root), TimeProvider.System, Events);
    }

    internal ControlPlane(Topology.Topology topology, StateDirectory state, IServerLauncher launcher, TimeProvider timeProvider, RestartPolicy policy)
    {
        _topology = topology;
        _state = state;
        _timeProvider = timeProvider;
        Events = new EventLog(timeProvider, state.EventsFile);
        _supervisors = topology.Servers.Select(s => new ServerSupervisor(s.Name, launcher, policy, timeProvider, Events)).ToList();
        _lb = new LbTier(topology, state.LbDrainedFile, Events);
    }

    /// <summary>Supervision events.</summary>
    public EventLog Events { get; }

    /// <summary>Runs until <paramref name="cancellationToken"/> or <see cref="RequestShutdown"/>, then stops every server.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _shutdown.Token);
        using var loops = new CancellationTokenSource();
        PidFile.Write(_state.ControlPlanePidFile, ProcessIdentity.Of(Environment.ProcessId)!);
        await using var api = await ControlApi.StartAsync(this, _state).ConfigureAwait(false);
        var supervision = _supervisors.Select(s => RunLoopAsync(s.RunAsync, loops.Token)).ToList();
        var health = new HealthMonitor(_topology, _supervisors, _timeProvider).RunAsync(loops.Token);
        var orchestration = _db is null ? Task.CompletedTask : RunLoopAsync(_db.Orchestrator.RunAsync, loops.Token);
        var balancing = RunLoopAsync(_lb.RunAsync, loops.Token);
        Events.Record("control-plane", $"starting {_supervisors.Count} servers of {_topology.SiteHost}");
        foreach (var supervisor in _supervisors)
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
        await Task.WhenAll([.. supervision, health, orchestration, balancing]).ConfigureAwait(false);
        _lb.Dispose();
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
        var servers = _supervisors.Select(s =>
        {
            var spec = _topology.Find(s.Name)!;
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
        var holder = servers.FirstOrDefault(s => s.RoleHealth.Any(r => r.Role == "lb" && r.State == RoleStates.Ready));
        var pub = _topology.Public;
        var direct = pub.HttpPort == 80 ? $"http://{pub.Address}/" : $"http://{pub.Address}:{pub.HttpPort}/";
        var publicStatus = new PublicStatus(_topology.SiteHost, pub.Address.ToString(), pub.HttpPort, pub.Url(_topology.Domain), direct,
            $"curl -i --resolve {_topology.SiteHost}:{pub.HttpPort}:{pub.Address} {pub.Url(_topology.Domain)}", holder?.Name);
        return new StatusReport(_topology.Domain, _state.Root, Environment.ProcessId, publicStatus, servers, Events.Recent());
    }

    /// <summary>The database tier: roles, positions, lag, semi-sync, alerts.</summary>
    /// <exception cref="InvalidOperationException">The topology has no db server.</exception>
    public DbStatusReport DbStatus() => (_db ?? throw NoDatabase()).Report();

    /// <summary>A planned change of primary (<c>foobar db switchover</c>).</summary>
    /// <exception cref="InvalidOperationException">It cannot be done now; nothing changed. The message says why.</exception>
    public Task<string> SwitchoverAsync(string? target, CancellationToken cancellationToken) =>
        (_db ?? throw NoDatabase()).Orchestrator.SwitchoverAsync(target, cancellationToken);

    /// <summary>Stops (<paramref name="drain"/>) or resumes sending new requests to a web server (<c>foobar lb drain|ready</c>).</summary>
    /// <exception cref="ArgumentException">Not a web server; the message lists them.</exception>
    public Task<string> SetDrainingAsync(string server, bool drain, CancellationToken cancellationToken) =>
        _lb.SetAsync(server, drain, cancellationToken);

    private static InvalidOperationException NoDatabase() => new("this topology has no db server");

    /// <summary>Carries out an operator's command on one server.</summary>
    /// <returns>A sentence for the operator.</returns>
    /// <exception cref="ArgumentException">Unknown server or action; the message says which exist.</exception>
    public async Task<string> ActAsync(string serverName, string action)
    {
        var supervisor = _supervisors.FirstOrDefault(s => s.Name == serverName)
            ?? throw new ArgumentException($"no server '{serverName}'; servers: {string.Join(", ", _supervisors.Select(s => s.Name))}");
        var pid = supervisor.Process?.Identity.Pid;
        switch (action)
        {
            case "kill":
                await supervisor.KillAsync().ConfigureAwait(false);
                return pid is null ? $"{serverName} was not running; it stays down until 'foobar start {serverName}'"
                    : $"{serverName} killed (SIGKILL to pid {pid}); it stays down until 'foobar start {serverName}'";
            case "stop":
                await supervisor.StopAsync(StopGrace).ConfigureAwait(false);
                return $"{serverName} stopped";
            case "start":
                supervisor.Start();
                return $"{serverName} starting";
            case "restart":
                await supervisor.StopAsync(StopGrace).ConfigureAwait(false);
                supervisor.Start();
                return $"{serverName} restarting";
            default:
                throw new ArgumentException($"unknown action '{action}'; use kill, stop, start or restart");
        }
    }

    /// <summary>Front tiers first, so no server is handed requests by a tier that outlives it.</summary>
    private async Task StopAllAsync()
    {
        Role[] order = [Role.Lb, Role.Web, Role.App, Role.Db, Role.Dns];
        foreach (var tier in _supervisors.GroupBy(s => order.Min(r => _topology.Find(s.Name)!.Has(r) ? Array.IndexOf(order, r) : int.MaxValue)).OrderBy(g => g.Key))
        {
            await Task.WhenAll(tier.Select(s => s.StopAsync(StopGrace))).ConfigureAwait(false);
        }
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
