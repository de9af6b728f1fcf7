using System.Net.Http.Json;
using System.Text.Json;
using Foobar.ControlPlane.Api;
using Foobar.ControlPlane.Supervision;
using Foobar.Server.Admin;
using Foobar.Topology;

namespace Foobar.ControlPlane.Rotation;

/// <summary>
/// The control plane's part of one front tier — the load balancers in front of the web servers,
/// or the web servers in front of the app servers: which servers behind it are out of rotation,
/// made true on every front server. Two reasons to be out: an operator drained it
/// (<c>foobar lb drain web1</c>, kept in the state directory until <c>ready</c>), or the control
/// plane is stopping or restarting it (<see cref="LeaveAsync"/>: until it runs again, newly
/// started and ready). Reconciled within half a second of a change, so a front server that
/// restarts (and forgets) is told again within that time (<see cref="RunAsync"/>).
/// </summary>
internal sealed class FrontTier : IDisposable
{
    private static readonly TimeSpan ReconcileInterval = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(50);

    /// <summary>How long stopping or restarting one server waits for another to be in rotation on every front server.</summary>
    public static readonly TimeSpan OthersWait = TimeSpan.FromSeconds(10);

    private volatile Topology.Topology _topology;
    private readonly string _stateFile;
    private readonly EventLog _events;
    private readonly Func<string, Readiness> _readiness;
    private readonly Lock _lock = new();
    private readonly SortedSet<string> _drained;
    private readonly Dictionary<string, int?> _leaving = [];
    private readonly HttpClient _client = ServerAdminClient.Create(TimeSpan.FromSeconds(5));
    private readonly TimeSpan _othersWait;
    private readonly TimeProvider _time;

    /// <summary>Whether a server runs, as which process, and says it is ready.</summary>
    public readonly record struct Readiness(int? Pid, bool Ready);

    /// <param name="front">The front role: <see cref="Role.Lb"/> or <see cref="Role.Web"/>.</param>
    /// <param name="topology">The topology in force.</param>
    /// <param name="stateFile">Where operator drains are kept.</param>
    /// <param name="events">The event log.</param>
    /// <param name="readiness">How a server behind is doing now, from its supervisor.</param>
    /// <param name="othersWait">How long stopping one server waits for another in rotation; <see cref="OthersWait"/> unless a test says.</param>
    /// <param name="time">The clock the waits are measured on; the system's unless a test says.</param>
    public FrontTier(Role front, Topology.Topology topology, string stateFile, EventLog events, Func<string, Readiness> readiness,
        TimeSpan? othersWait = null, TimeProvider? time = null)
    {
        _othersWait = othersWait ?? OthersWait;
        _time = time ?? TimeProvider.System;
        if (front is not (Role.Lb or Role.Web))
        {
            throw new ArgumentOutOfRangeException(nameof(front), front, "only load balancers and web servers have a tier behind them");
        }
        Front = front;
        _topology = topology;
        _stateFile = stateFile;
        _events = events;
        _readiness = readiness;
        _drained = File.Exists(stateFile)
            ? new SortedSet<string>(JsonSerializer.Deserialize<List<string>>(File.ReadAllText(stateFile)) ?? [], StringComparer.Ordinal)
            : new SortedSet<string>(StringComparer.Ordinal);
    }

    /// <summary>The front role.</summary>
    public Role Front { get; }

    /// <summary>The role of the servers behind it.</summary>
    public Role Behind => Front == Role.Lb ? Role.Web : Role.App;

    /// <summary>Follows a reloaded topology: its servers are the ones that can be drained and told.</summary>
    public void Follow(Topology.Topology topology) => _topology = topology;

    /// <summary>Servers an operator drained now.</summary>
    public IReadOnlyList<string> Drained
    {
        get
        {
            lock (_lock)
            {
                return [.. _drained];
            }
        }
    }

    /// <summary>Every server that should get no new requests now: drained or leaving.</summary>
    private HashSet<string> OutOfRotation()
    {
        lock (_lock)
        {
            return [.. _drained, .. _leaving.Keys];
        }
    }

    /// <summary>An operator drains or readies <paramref name="server"/> on every front server; returns a sentence for the operator.</summary>
    /// <exception cref="ArgumentException"><paramref name="server"/> is not a server of the tier behind.</exception>
    public async Task<string> SetAsync(string server, bool drain, CancellationToken cancellationToken)
    {
        var behind = _topology.ServersWith(Behind);
        if (!behind.Any(s => s.Name == server))
        {
            throw new ArgumentException($"no {Behind.Name()} server '{server}'; {Behind.Name()} servers: {string.Join(", ", behind.Select(s => s.Name))}");
        }
        lock (_lock)
        {
            var changed = drain ? _drained.Add(server) : _drained.Remove(server);
            if (changed)
            {
                var temporary = _stateFile + ".tmp";
                File.WriteAllText(temporary, JsonSerializer.Serialize(_drained.ToList()));
                File.Move(temporary, _stateFile, overwrite: true);
            }
        }
        _events.Record(Front.Name(), $"{server}: {(drain ? "drain" : "ready")} requested");
        var told = await ReconcileAsync(cancellationToken).ConfigureAwait(false);
        var what = drain ? "draining: no new requests, those in flight finish" : "ready: back in rotation";
        return told.Count == 0
            ? $"{server} {what}; no {Front.Name()} server is running now, each will be told when it is"
            : $"{server} {what} on {string.Join(", ", told)}";
    }

    /// <summary>
    /// Takes <paramref name="server"/> (running as <paramref name="pid"/>) out of rotation on every
    /// front server and waits until none has a request in flight to it, at most
    /// <paramref name="deadline"/>. It stays out until it runs as another process and is ready.
    /// </summary>
    /// <returns>A sentence for the operator.</returns>
    public async Task<string> LeaveAsync(string server, int? pid, TimeSpan deadline, CancellationToken cancellationToken)
    {
        // A server just started may not have passed its checks yet on every front server: wait a
        // little for it rather than leave a front server with nothing to send requests to.
        var alone = await AwaitOthersAsync(server, _othersWait, cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            _leaving[server] = pid;
        }
        var started = _time.GetTimestamp();
        var told = await ReconcileAsync(cancellationToken).ConfigureAwait(false);
        var idleInARow = 0;
        long active = 0;
        // Twice idle in a row: a request that picked the server just before the drain has counted itself by then.
        // At least one look, however long telling the front servers took.
        do
        {
            await Task.Delay(IdlePoll, _time, cancellationToken).ConfigureAwait(false);
            active = await InFlightAsync(server, cancellationToken).ConfigureAwait(false);
            idleInARow = active == 0 ? idleInARow + 1 : 0;
        }
        while (idleInARow < 2 && _time.GetElapsedTime(started) < deadline);
        var message = told.Count == 0
            ? $"{server}: no {Front.Name()} server running to take it out of rotation"
            : $"{server} out of rotation on {string.Join(", ", told)} in {_time.GetElapsedTime(started).TotalSeconds:0.00} s"
                + (active == 0 ? "" : $"; {active} request(s) still in flight after {deadline.TotalSeconds:0} s")
                + (alone.Count == 0 ? "" : $"; no other {Behind.Name()} server was in rotation after {_othersWait.TotalSeconds:0.#} s ({string.Join("; ", alone)}): requests there fail until {server} is back");
        _events.Record(Front.Name(), message);
        return message;
    }

    /// <summary>
    /// Polls <see cref="WithoutOthersAsync"/> until it is empty or <paramref name="deadline"/>
    /// passes; returns what it said last (empty: every front server has another server in rotation).
    /// </summary>
    public async Task<List<string>> AwaitOthersAsync(string server, TimeSpan deadline, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        while (true)
        {
            var alone = await WithoutOthersAsync(server, cancellationToken).ConfigureAwait(false);
            if (alone.Count == 0 || _time.GetElapsedTime(started) >= deadline)
            {
                return alone;
            }
            await Task.Delay(IdlePoll, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Which running front servers would have no server left in rotation without
    /// <paramref name="server"/>: for each, a sentence naming it and how the others are
    /// ("web1: app2 down"). Empty when every front server that answers has another server up and
    /// not draining — the condition for taking <paramref name="server"/> out without failing requests.
    /// A tier of one server has nothing to wait for: empty too.
    /// </summary>
    public async Task<List<string>> WithoutOthersAsync(string server, CancellationToken cancellationToken)
    {
        var alone = new List<string>();
        if (_topology.ServersWith(Behind).Count() < 2)
        {
            return alone;
        }
        foreach (var front in _topology.ServersWith(Front))
        {
            if (await BackendsAsync(front, cancellationToken).ConfigureAwait(false) is not { } backends)
            {
                continue;
            }
            var others = backends.Where(b => b.Name != server).ToList();
            if (!others.Any(b => b is { State: "up", Draining: false }))
            {
                alone.Add($"{front.Name}: " + (others.Count == 0 ? "none"
                    : string.Join(", ", others.Select(b => $"{b.Name} {(b.Draining ? "draining" : b.State)}"))));
            }
        }
        return alone;
    }

    /// <summary>
    /// Whether every running front server sends <paramref name="server"/> requests again: up, not
    /// draining, its last check passed and made after <paramref name="since"/> (a pass from before a
    /// restart says nothing: the failures of the restart may still mark it down).
    /// </summary>
    public async Task<bool> InRotationAsync(string server, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var answered = 0;
        foreach (var front in _topology.ServersWith(Front))
        {
            var backends = await BackendsAsync(front, cancellationToken).ConfigureAwait(false);
            if (backends is null)
            {
                continue;
            }
            answered++;
            if (backends.FirstOrDefault(b => b.Name == server) is not { State: "up", Draining: false, Checked: true, CheckedAt: { } at } || at <= since)
            {
                return false;
            }
        }
        return answered > 0;
    }

    /// <summary>
    /// Tells every front server until it agrees; runs until <paramref name="cancellationToken"/>.
    /// Looks every <see cref="ReconcileInterval"/> while something may differ — a drain or a ready
    /// since the last pass every running front server agreed in, a server leaving, a front server
    /// running as another process (it restarted and forgot), one that did not answer — and
    /// otherwise only every <see cref="RecheckInterval"/>: each look is a request to every front
    /// server, and four front servers asked twice a second cost every one of them wake-ups for
    /// nothing (docs/operations.md).
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(ReconcileInterval, _time);
        string? agreed = null;
        long agreedAt = 0;
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            var now = Agreement();
            if (now is null || now != agreed || _time.GetElapsedTime(agreedAt) >= RecheckInterval)
            {
                var told = await ReconcileAsync(cancellationToken).ConfigureAwait(false);
                var everyRunning = _topology.ServersWith(Front).Where(f => _readiness(f.Name).Pid is not null).All(f => told.Contains(f.Name));
                (agreed, agreedAt) = now is not null && everyRunning ? (now, _time.GetTimestamp()) : (null, 0);
            }
            Interlocked.Increment(ref _ticks);
        }
    }

    /// <summary>How long <see cref="RunAsync"/> trusts an agreement before it looks again anyway (an operator's POST to a front server's admin port, say).</summary>
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(10);

    private int _ticks;

    /// <summary>Ticks <see cref="RunAsync"/> has handled (for tests).</summary>
    internal int Ticks => Volatile.Read(ref _ticks);

    /// <summary>
    /// What the front servers should agree on and who they are: the servers out of rotation and
    /// each front server's process. Null while a server is leaving (its return depends on its readiness).
    /// </summary>
    private string? Agreement()
    {
        lock (_lock)
        {
            if (_leaving.Count > 0)
            {
                return null;
            }
        }
        return string.Join(",", OutOfRotation().Order(StringComparer.Ordinal)) + " | "
            + string.Join(",", _topology.ServersWith(Front).Select(f => $"{f.Name} {_readiness(f.Name).Pid}"));
    }

    /// <summary>
    /// One pass: servers that left and now run again, as another process and ready, return;
    /// every front server is told what is out of rotation. Returns the front servers that answered and now agree.
    /// </summary>
    public async Task<List<string>> ReconcileAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            foreach (var (server, pid) in _leaving.ToList())
            {
                var now = _readiness(server);
                if (_topology.Find(server) is null || (now.Ready && now.Pid is not null && now.Pid != pid))
                {
                    _leaving.Remove(server);
                }
            }
        }
        var outOfRotation = OutOfRotation();
        var agreed = new List<string>();
        foreach (var front in _topology.ServersWith(Front))
        {
            // Not answering: not running, starting, restarting, or being stopped with the rest; told on a later pass.
            if (await BackendsAsync(front, cancellationToken).ConfigureAwait(false) is not { } backends)
            {
                continue;
            }
            try
            {
                foreach (var backend in backends.Where(b => b.Draining != outOfRotation.Contains(b.Name)))
                {
                    var action = outOfRotation.Contains(backend.Name) ? "drain" : "ready";
                    using var response = await _client.PostAsync($"{AdminUri(front)}/{backend.Name}/{action}", null, cancellationToken).ConfigureAwait(false);
                    response.EnsureSuccessStatusCode();
                    _events.Record(front.Name, $"told: {backend.Name} {action}");
                }
                agreed.Add(front.Name);
            }
            catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // Went away between the two calls. (The pattern binds before &&: written as one
                // condition, a refused connection while everything stopped escaped and crashed `foobar up` at Ctrl+C.)
            }
        }
        return agreed;
    }

    /// <summary>Requests in flight to <paramref name="server"/> over every front server that answers.</summary>
    private async Task<long> InFlightAsync(string server, CancellationToken cancellationToken)
    {
        long active = 0;
        foreach (var front in _topology.ServersWith(Front))
        {
            active += (await BackendsAsync(front, cancellationToken).ConfigureAwait(false))?.FirstOrDefault(b => b.Name == server)?.Active ?? 0;
        }
        return active;
    }

    /// <summary>The servers behind <paramref name="front"/> as it reports them; null when it does not answer.</summary>
    private async Task<List<BackendStatus>?> BackendsAsync(ServerSpec front, CancellationToken cancellationToken)
    {
        try
        {
            return await _client.GetFromJsonAsync<List<BackendStatus>>(AdminUri(front), cancellationToken).ConfigureAwait(false) ?? [];
        }
        catch (Exception e) when (e is HttpRequestException or JsonException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return null;
        }
    }

    private string AdminUri(ServerSpec front) => $"http://{_topology.AdminEndPoint(front)}{AdminPaths.ServersBehind(Front.Name())}";

    public void Dispose() => _client.Dispose();
}
