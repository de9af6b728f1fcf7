using Foobar.ControlPlane.Api;
using System.Net.Http.Json;
using System.Text.Json;
using Foobar.ControlPlane.Supervision;
using Foobar.Server.Admin;
using Foobar.Topology;

namespace Foobar.ControlPlane.LoadBalancing;

/// <summary>
/// The control plane's part of the load balancer tier: which web servers an operator drained
/// (<c>foobar lb drain web1</c>), kept in <c>STATE/lb-drained.json</c>, and made true on every load
/// balancer. Reconciled every half second, so a load balancer that restarts (and forgets) is told
/// again within that time.
/// </summary>
internal sealed class LbTier : IDisposable
{
    private static readonly TimeSpan ReconcileInterval = TimeSpan.FromMilliseconds(500);

    private volatile Topology.Topology _topology;
    private readonly string _stateFile;
    private readonly EventLog _events;
    private readonly Lock _lock = new();
    private readonly SortedSet<string> _drained;
    private readonly HttpClient _client = ServerAdminClient.Create(TimeSpan.FromSeconds(5));

    /// <summary>Follows a reloaded topology: its web servers are the ones that can be drained.</summary>
    public void Follow(Topology.Topology topology) => _topology = topology;

    public LbTier(Topology.Topology topology, string stateFile, EventLog events)
    {
        _topology = topology;
        _stateFile = stateFile;
        _events = events;
        _drained = File.Exists(stateFile)
            ? new SortedSet<string>(JsonSerializer.Deserialize<List<string>>(File.ReadAllText(stateFile)) ?? [], StringComparer.Ordinal)
            : new SortedSet<string>(StringComparer.Ordinal);
    }

    /// <summary>Web servers drained now.</summary>
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

    /// <summary>Drains or readies <paramref name="server"/> on every load balancer; returns a sentence for the operator.</summary>
    /// <exception cref="ArgumentException"><paramref name="server"/> is not a web server.</exception>
    public async Task<string> SetAsync(string server, bool drain, CancellationToken cancellationToken)
    {
        var webServers = _topology.ServersWith(Role.Web);
        if (!webServers.Any(s => s.Name == server))
        {
            throw new ArgumentException($"no web server '{server}'; web servers: {string.Join(", ", webServers.Select(s => s.Name))}");
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
        _events.Record("lb", $"{server}: {(drain ? "drain" : "ready")} requested");
        var told = await ReconcileAsync(cancellationToken).ConfigureAwait(false);
        var what = drain ? "draining: no new requests, those in flight finish" : "ready: back in rotation";
        return told.Count == 0
            ? $"{server} {what}; no load balancer is running now, each will be told when it is"
            : $"{server} {what} on {string.Join(", ", told)}";
    }

    /// <summary>Tells every load balancer until it agrees; runs until <paramref name="cancellationToken"/>.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(ReconcileInterval);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            await ReconcileAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One pass: the load balancers that answered and now agree.</summary>
    private async Task<List<string>> ReconcileAsync(CancellationToken cancellationToken)
    {
        var drained = Drained;
        var agreed = new List<string>();
        foreach (var lb in _topology.ServersWith(Role.Lb))
        {
            try
            {
                var admin = $"http://{_topology.AdminEndPoint(lb)}{AdminPaths.LbServers}";
                var backends = await _client.GetFromJsonAsync<List<LbBackendStatus>>(admin, cancellationToken).ConfigureAwait(false) ?? [];
                foreach (var backend in backends.Where(b => b.Draining != drained.Contains(b.Name)))
                {
                    var action = drained.Contains(backend.Name) ? "drain" : "ready";
                    using var response = await _client.PostAsync($"{admin}/{backend.Name}/{action}", null, cancellationToken).ConfigureAwait(false);
                    response.EnsureSuccessStatusCode();
                    _events.Record(lb.Name, $"told: {backend.Name} {action}");
                }
                agreed.Add(lb.Name);
            }
            catch (Exception e) when (e is HttpRequestException or JsonException
                || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // Not running, starting, restarting, or being stopped with the rest: told on a later
                // pass. (The pattern binds before &&: written as one condition, a refused connection
                // while everything stopped escaped and crashed `foobar up` at Ctrl+C.)
            }
        }
        return agreed;
    }

    public void Dispose() => _client.Dispose();
}
