using System.Diagnostics;
using Foobar.Db.Cluster;
using Foobar.Db.Replication;
using Foobar.Db.Schema;

namespace Foobar.Db.Orchestration;

/// <summary>
/// Keeps the cluster in one shape: one writable primary, every other server a read-only replica of
/// it. Probes every server each <see cref="OrchestratorOptions.ProbeInterval"/>; fails over when
/// the primary stops answering <em>and</em> the replicas have lost it too; brings returning
/// servers back as replicas, or keeps them out when they hold transactions the primary lacks.
/// </summary>
/// <remarks>
/// Why the replicas must confirm: the control plane alone cannot tell a dead primary from its own
/// network trouble. A replica's replication connection breaks at once when the primary's process
/// dies (the kernel resets it) and within <see cref="ReplicationArguments.ReplicaNetTimeoutSeconds"/>
/// when it hangs; while any replica still streams from the primary, there is no failover.
/// </remarks>
public sealed class Orchestrator
{
    private readonly IReadOnlyList<DbNode> _nodes;
    private readonly ClusterAdmin _admin;
    private readonly OrchestratorOptions _options;
    private readonly string _stateFile;
    private readonly TimeProvider _time;
    private readonly Action<string> _record;
    private readonly IReadOnlyList<Migration> _migrations;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, string> _alerts = [];
    private readonly DateTimeOffset _startedAt;

    /// <summary>Whether a primary answered as one since this orchestrator started.</summary>
    private bool _primarySeen;
    private Dictionary<string, NodeStatus> _statuses = [];
    private NodeStatus? _lastGoodPrimary;
    private int _primaryFailures;
    private int? _migratedEpoch;

    // Every commit the primary acknowledged is on a replica once that replica holds this position:
    // commits after it waited for a replica (semi-sync), commits up to it were there when semi-sync went on.
    private GtidPosition? _acknowledgedThrough;

    /// <param name="nodes">Every db server, in topology order (ties in promotion go to the first).</param>
    /// <param name="initialPrimary">The primary when no state file exists yet (the topology's).</param>
    /// <param name="admin">Connections to the servers.</param>
    /// <param name="options">Timing.</param>
    /// <param name="stateFile">Where decisions are kept (<see cref="ClusterState"/>).</param>
    /// <param name="time">The clock.</param>
    /// <param name="record">Receives one line per decision, for the event log.</param>
    /// <param name="migrations">The application's schema, applied on the primary whenever one takes office.</param>
    public Orchestrator(IReadOnlyList<DbNode> nodes, string initialPrimary, ClusterAdmin admin, OrchestratorOptions options,
        string stateFile, TimeProvider time, Action<string> record, IReadOnlyList<Migration>? migrations = null)
    {
        _migrations = migrations ?? [];
        _nodes = nodes;
        _admin = admin;
        _options = options;
        _stateFile = stateFile;
        _time = time;
        _record = record;
        State = ClusterState.Load(stateFile) ?? new ClusterState { Primary = initialPrimary };
        _startedAt = time.GetUtcNow();
        if (Node(State.Primary) is null)
        {
            throw new InvalidDataException($"{stateFile} names {State.Primary} as the primary, but the topology has no such db server; fix the file or the topology");
        }
    }

    /// <summary>
    /// Raised with the server's name whenever one is made the writable primary (bootstrap,
    /// failover, switchover), so clients can be told at once rather than find out.
    /// </summary>
    public event Action<string>? PrimaryWritable;

    /// <summary>The decisions in force.</summary>
    public ClusterState State { get; private set; }

    /// <summary>The last probe of every server.</summary>
    public IReadOnlyDictionary<string, NodeStatus> Statuses => _statuses;

    /// <summary>Suffix of the key of a server's low-disk alert, kept apart from its replication alert.</summary>
    public const string DiskAlertSuffix = "/disk";

    /// <summary>
    /// Problems that need a person: a server kept out, a refused failover, a disk nearly full.
    /// Keyed by server (low disk: server + <see cref="DiskAlertSuffix"/>).
    /// </summary>
    public IReadOnlyDictionary<string, string> Alerts
    {
        get
        {
            lock (_alerts)
            {
                return new Dictionary<string, string>(_alerts);
            }
        }
    }

    /// <summary>Probes and reconciles until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.ProbeInterval, _time);
        do
        {
            try
            {
                await TickAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A change that failed half-way is retried on the next tick, from a fresh probe.
                _record($"orchestrator: {e.Message}");
            }
        }
        while (await WaitAsync(timer, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>One probe of every server and whatever change it calls for.</summary>
    public async Task TickAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ProbeAllAsync(cancellationToken).ConfigureAwait(false);
            var primary = _statuses[State.Primary];
            if (primary.Reachable)
            {
                _primaryFailures = 0;
                await KeepPrimaryAsync(primary, cancellationToken).ConfigureAwait(false);
                await KeepReplicasAsync(primary, cancellationToken).ConfigureAwait(false);
                await KeepSemiSyncAsync(primary, cancellationToken).ConfigureAwait(false);
                await MigrateAsync(Node(primary.Name)!, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await PrimaryUnreachableAsync(primary, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// A planned change of primary with nothing lost: the old primary stops taking writes, the
    /// target applies everything it had, then roles swap. Writes refused in between fail with a
    /// read-only error that clients retry on the new primary.
    /// </summary>
    /// <returns>What was done, for the operator.</returns>
    /// <exception cref="InvalidOperationException">The switchover cannot be done; nothing changed.</exception>
    public async Task<string> SwitchoverAsync(string? target, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var clock = Stopwatch.StartNew();
            await ProbeAllAsync(cancellationToken).ConfigureAwait(false);
            var old = Node(State.Primary)!;
            if (!_statuses[old.Name].Reachable)
            {
                throw new InvalidOperationException($"the primary {old.Name} is unreachable; a failover, not a switchover, is needed");
            }
            var candidates = _nodes.Where(n => n != old && _statuses[n.Name] is { Reachable: true, ReplicaConnected: true } s && s.ReplicaOf == old.Address.ToString()).ToList();
            var next = target is null
                ? candidates.OrderBy(n => _statuses[n.Name].SecondsBehind ?? long.MaxValue).FirstOrDefault()
                : Node(target) ?? throw new InvalidOperationException($"no db server '{target}'; db servers: {string.Join(", ", _nodes.Select(n => n.Name))}");
            if (next is null || next == old)
            {
                throw new InvalidOperationException(next == old ? $"{old.Name} is the primary already" : "no replica is connected to the primary; nothing to switch to");
            }
            if (!candidates.Contains(next))
            {
                throw new InvalidOperationException($"{next.Name} is not a connected replica of {old.Name} ({Describe(_statuses[next.Name])}); pick another or wait until it catches up");
            }
            await _admin.SetReadOnlyAsync(old, cancellationToken).ConfigureAwait(false);
            var position = (await _admin.ProbeAsync(old, _time, cancellationToken).ConfigureAwait(false)).GtidCurrentPos;
            if (!await _admin.WaitForPositionAsync(next, position, _options.ApplyTimeout, cancellationToken).ConfigureAwait(false))
            {
                await _admin.MakePrimaryAsync(old, semiSync: true, cancellationToken).ConfigureAwait(false);
                throw new InvalidOperationException($"{next.Name} did not apply {position} within {_options.ApplyTimeout.TotalSeconds:0} s; {old.Name} stays the primary");
            }
            await PromoteAsync(next, semiSync: true, cancellationToken).ConfigureAwait(false);
            _acknowledgedThrough = GtidPosition.Parse(position);
            State = State with { Primary = next.Name, Epoch = State.Epoch + 1, FormerPrimary = null, PromotedAtPosition = position };
            State.Save(_stateFile);
            await _admin.ReplicateFromAsync(old, next, cancellationToken).ConfigureAwait(false);
            var message = $"switchover: {next.Name} is the primary (was {old.Name}) at {position}, in {clock.ElapsedMilliseconds} ms";
            _record(message);
            PrimaryWritable?.Invoke(next.Name);
            return message;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task ProbeAllAsync(CancellationToken cancellationToken)
    {
        var probes = await Task.WhenAll(_nodes.Select(n => _admin.ProbeAsync(n, _time, cancellationToken))).ConfigureAwait(false);
        _statuses = probes.ToDictionary(s => s.Name);
        foreach (var status in probes.Where(s => s.Reachable))
        {
            CheckDisk(status);
        }
    }

    /// <summary>
    /// MariaDB does not fail a write on a full disk: it stalls it until space is freed (and InnoDB
    /// may abort), so the alert has to come before, while there is still room.
    /// </summary>
    private void CheckDisk(NodeStatus status)
    {
        var key = status.Name + DiskAlertSuffix;
        if (status.DiskFreeBytes is { } free && free < _options.DiskReserve)
        {
            Alert(key, $"{status.Name} has {Megabytes(free)} free of {Megabytes(status.DiskTotalBytes ?? 0)} for its data ({status.DataPath}), " +
                $"less than disk_reserve {Megabytes(_options.DiskReserve)}; MariaDB stalls every write when the disk is full: free space or grow the disk");
        }
        else
        {
            ClearAlert(key);
        }
    }

    private async Task KeepPrimaryAsync(NodeStatus primary, CancellationToken cancellationToken)
    {
        _lastGoodPrimary = primary;
        _primarySeen = true;
        ClearAlert(primary.Name);
        if (primary.SemiSyncEnabled && _acknowledgedThrough is null)
        {
            // Found on (a restarted control plane): conservatively, everything it has now.
            _acknowledgedThrough = GtidPosition.Parse(primary.GtidBinlogPos);
        }
        if (primary.ReadOnly || primary.ReplicaOf is not null)
        {
            // First start, or the primary restarted before anyone took over: it is still the primary.
            // Semi-sync waits for a replica once one streams from it (below); until then commits are not held.
            await _admin.MakePrimaryAsync(Node(primary.Name)!, semiSync: false, cancellationToken).ConfigureAwait(false);
            _acknowledgedThrough = null;
            _record($"{primary.Name} is the primary (writable) at {Show(primary.GtidCurrentPos)}");
            PrimaryWritable?.Invoke(primary.Name);
        }
    }

    /// <summary>
    /// Semi-sync goes on as soon as a replica streams from the primary and has applied everything:
    /// from then on every commit is on two servers before it is acknowledged. A primary left with
    /// no replica runs without it (nothing could acknowledge), and no automatic failover follows
    /// from that state.
    /// </summary>
    private async Task KeepSemiSyncAsync(NodeStatus primary, CancellationToken cancellationToken)
    {
        if (primary.SemiSyncEnabled || primary.ReadOnly)
        {
            return;
        }
        var primaryPosition = GtidPosition.Parse(primary.GtidBinlogPos);
        var caughtUp = _statuses.Values.FirstOrDefault(s => s.Name != primary.Name && s.Reachable && s.ReplicaConnected && s.SqlRunning == "Yes"
            && s.ReplicaOf == Node(primary.Name)!.Address.ToString() && s.Received.Contains(primaryPosition));
        if (caughtUp is not null)
        {
            var node = Node(primary.Name)!;
            await _admin.EnableSemiSyncAsync(node, cancellationToken).ConfigureAwait(false);
            var after = await _admin.ProbeAsync(node, _time, cancellationToken).ConfigureAwait(false);
            _acknowledgedThrough = after.Reachable ? GtidPosition.Parse(after.GtidBinlogPos) : null;
            _record($"semi-sync on: {primary.Name}'s commits now wait for {caughtUp.Name}'s acknowledgement");
        }
    }

    /// <summary>Once per primary: the application's schema is brought up to date on it.</summary>
    private async Task MigrateAsync(DbNode primary, CancellationToken cancellationToken)
    {
        if (_migratedEpoch == State.Epoch || _migrations.Count == 0)
        {
            return;
        }
        await using (var connection = await _admin.OpenAsync(primary, cancellationToken).ConfigureAwait(false))
        {
            foreach (var migration in await MigrationRunner.ApplyAsync(connection, _migrations, cancellationToken).ConfigureAwait(false))
            {
                _record($"migration {migration.Version} ({migration.Name}) applied on {primary.Name}");
            }
        }
        _migratedEpoch = State.Epoch;
    }

    private async Task KeepReplicasAsync(NodeStatus primary, CancellationToken cancellationToken)
    {
        var primaryNode = Node(primary.Name)!;
        foreach (var node in _nodes.Where(n => n != primaryNode))
        {
            var status = _statuses[node.Name];
            if (!status.Reachable)
            {
                continue;
            }
            if (!status.ReadOnly)
            {
                // Writable but not the primary: a former primary that hung and woke up. Fence it
                // before anything else, so no client's write there is acknowledged.
                await _admin.FenceAsync(node, cancellationToken).ConfigureAwait(false);
                _record($"{node.Name} was writable although {primary.Name} is the primary: fenced (read-only, client connections closed)");
                status = await _admin.ProbeAsync(node, _time, cancellationToken).ConfigureAwait(false);
                if (!status.Reachable)
                {
                    continue;
                }
            }
            if (node.Name == State.FormerPrimary && !GtidPosition.Parse(State.PromotedAtPosition).Contains(status.Current))
            {
                Alert(node.Name, $"{node.Name} is kept out: it has transactions {primary.Name} never received (it has {Show(status.GtidCurrentPos)}, {primary.Name} was promoted at {Show(State.PromotedAtPosition)}); " +
                    "compare them, then rebuild it from a backup of the primary");
                continue;
            }
            if (status.ReplicaOf != primaryNode.Address.ToString() || !status.ReadOnly)
            {
                await _admin.ReplicateFromAsync(node, primaryNode, cancellationToken).ConfigureAwait(false);
                _record($"{node.Name} replicates from {primary.Name} (from {Show(status.GtidCurrentPos)})");
                if (node.Name == State.FormerPrimary)
                {
                    State = State with { FormerPrimary = null };
                    State.Save(_stateFile);
                }
                continue;
            }
            if (status.IoRunning == "No" && status.LastIoError is null)
            {
                // Stopped and not failed (a failover that froze it and then did not happen): resume.
                await _admin.ReplicateFromAsync(node, primaryNode, cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (status.IoRunning != "Yes" && status.LastIoError is { } io)
            {
                Alert(node.Name, $"{node.Name} cannot replicate from {primary.Name}: {io}");
            }
            else if (status.SqlRunning != "Yes" && status.LastSqlError is { } sql)
            {
                Alert(node.Name, $"{node.Name} stopped applying changes from {primary.Name}: {sql}");
            }
            else
            {
                ClearAlert(node.Name);
            }
        }
    }

    private async Task PrimaryUnreachableAsync(NodeStatus primary, CancellationToken cancellationToken)
    {
        _primaryFailures++;
        if (_primaryFailures < _options.FailedProbesBeforeFailover)
        {
            return;
        }
        // First: at `foobar up` every db server starts at once, and until they answer none is
        // reachable — that is a start, not "no replica to take over".
        var now = _time.GetUtcNow();
        if (!_primarySeen && now - _startedAt < _options.StartupGrace)
        {
            // No count of seconds in it: an alert is logged again only when its text changes.
            Alert(primary.Name, $"the primary {primary.Name} has not answered since the control plane started ({primary.Error}); " +
                $"it may still be starting: failover only if it is not up within {_options.StartupGrace.TotalSeconds:0} s of the start");
            return;
        }
        var primaryNode = Node(primary.Name)!;
        var replicas = _nodes.Where(n => n != primaryNode && _statuses[n.Name] is { Reachable: true } s && s.ReplicaOf == primaryNode.Address.ToString()).ToList();
        if (replicas.Count == 0)
        {
            Alert(primary.Name, $"the primary {primary.Name} is unreachable ({primary.Error}) and no replica is reachable to take over");
            return;
        }
        if (replicas.Where(n => _statuses[n.Name].ReplicaConnected).ToList() is { Count: > 0 } witnesses)
        {
            // The replicas still stream from it: the trouble is between the control plane and the primary.
            Alert(primary.Name, $"the control plane cannot reach the primary {primary.Name} ({primary.Error}), but {string.Join(", ", witnesses.Select(w => w.Name))} still replicate from it; no failover");
            return;
        }
        if (State.LastFailoverAt is { } last && now - last < _options.FailoverBlock)
        {
            Alert(primary.Name, $"the primary {primary.Name} is down, but the last failover was at {last.ToUniversalTime():HH:mm:ss} UTC (failover_block {_options.FailoverBlock.TotalSeconds:0} s); promote by hand with 'foobar db switchover' once it is safe");
            return;
        }
        if (_lastGoodPrimary is { SemiSyncEnabled: false } or { SemiSyncActive: false })
        {
            Alert(primary.Name, $"the primary {primary.Name} is down and was committing without a replica's acknowledgement (semi-sync off or timed out): a replica may lack acknowledged writes, so there is no automatic failover; bring {primary.Name} back, or promote with 'foobar db switchover' accepting the loss");
            return;
        }
        var through = _acknowledgedThrough ?? GtidPosition.Empty;
        if (!replicas.Any(r => _statuses[r.Name].Received.Contains(through)))
        {
            Alert(primary.Name, $"the primary {primary.Name} is down, but no replica has every write it acknowledged (through {through}; best: " +
                $"{string.Join(", ", replicas.Select(r => $"{r.Name} {_statuses[r.Name].Received}"))}); no automatic failover: bring {primary.Name} back");
            return;
        }
        await FailoverAsync(primaryNode, replicas, cancellationToken).ConfigureAwait(false);
    }

    private async Task FailoverAsync(DbNode dead, List<DbNode> replicas, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        // Freeze what every replica has received, then take the one that received the most.
        await Task.WhenAll(replicas.Select(r => _admin.StopReceivingAsync(r, cancellationToken))).ConfigureAwait(false);
        var frozen = await Task.WhenAll(replicas.Select(r => _admin.ProbeAsync(r, _time, cancellationToken))).ConfigureAwait(false);
        var reachable = frozen.Where(s => s.Reachable).ToList();
        if (reachable.Count == 0)
        {
            return;
        }
        var best = reachable.Aggregate((a, b) => GtidPosition.CompareProgress(b.Received, a.Received) > 0 ? b : a);
        var winner = Node(best.Name)!;
        var received = best.Received.ToString();
        if (!await _admin.WaitForPositionAsync(winner, received, _options.ApplyTimeout, cancellationToken).ConfigureAwait(false))
        {
            Alert(dead.Name, $"failover stalled: {winner.Name} did not apply what it received ({received}) within {_options.ApplyTimeout.TotalSeconds:0} s; retrying");
            return;
        }
        await PromoteAsync(winner, semiSync: reachable.Count > 1, cancellationToken).ConfigureAwait(false);
        _acknowledgedThrough = reachable.Count > 1 ? best.Received : null;
        State = State with { Primary = winner.Name, Epoch = State.Epoch + 1, LastFailoverAt = _time.GetUtcNow(), FormerPrimary = dead.Name, PromotedAtPosition = received };
        State.Save(_stateFile);
        foreach (var other in reachable.Where(s => s.Name != winner.Name))
        {
            await _admin.ReplicateFromAsync(Node(other.Name)!, winner, cancellationToken).ConfigureAwait(false);
        }
        ClearAlert(dead.Name);
        _primaryFailures = 0;
        _record($"failover: {dead.Name} is down; {winner.Name} is the primary at {Show(received)} ({clock.ElapsedMilliseconds} ms)");
        PrimaryWritable?.Invoke(winner.Name);
    }

    private async Task PromoteAsync(DbNode node, bool semiSync, CancellationToken cancellationToken)
    {
        _acknowledgedThrough = null;
        await _admin.MakePrimaryAsync(node, semiSync, cancellationToken).ConfigureAwait(false);
        _lastGoodPrimary = null;
        ClearAlert(node.Name);
    }

    private DbNode? Node(string name) => _nodes.FirstOrDefault(n => n.Name == name);

    private void Alert(string server, string message)
    {
        lock (_alerts)
        {
            if (_alerts.TryGetValue(server, out var current) && current == message)
            {
                return;
            }
            _alerts[server] = message;
        }
        _record("ALERT " + message);
    }

    private void ClearAlert(string server)
    {
        lock (_alerts)
        {
            _alerts.Remove(server);
        }
    }

    private static string Describe(NodeStatus status) =>
        !status.Reachable ? $"unreachable: {status.Error}"
        : status.ReplicaOf is null ? "not a replica"
        : $"replica of {status.ReplicaOf}, IO {status.IoRunning}, SQL {status.SqlRunning}";

    private static string Megabytes(long bytes) => $"{bytes >> 20} MB";

    private static string Show(string position) => position.Length == 0 ? "(empty)" : position;

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
