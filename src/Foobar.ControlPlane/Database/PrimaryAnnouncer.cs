using Foobar.ControlPlane.Api;
using System.Net.Http.Json;
using Foobar.ControlPlane.Supervision;
using Foobar.Server.Admin;
using Foobar.Topology;

namespace Foobar.ControlPlane.Database;

/// <summary>
/// Tells every app server at once when the orchestrator makes a db server the primary, so their
/// data routers look again instead of finding out on their next refresh or failed write. An app
/// server that cannot be told (down, restarting) finds the primary itself when it starts.
/// </summary>
internal sealed class PrimaryAnnouncer : IDisposable
{
    private readonly Topology.Topology _topology;
    private readonly EventLog _events;
    private readonly HttpClient _client = ServerAdminClient.Create(TimeSpan.FromSeconds(5));

    public PrimaryAnnouncer(Topology.Topology topology, EventLog events)
    {
        _topology = topology;
        _events = events;
    }

    /// <summary>Starts telling the app servers; never blocks the orchestrator, never throws.</summary>
    public void Announce(string primary) => _ = AnnounceAsync(primary);

    private async Task AnnounceAsync(string primary)
    {
        var apps = _topology.ServersWith(Role.App);
        if (apps.Count == 0)
        {
            return;
        }
        var replies = await Task.WhenAll(apps.Select(TellAsync)).ConfigureAwait(false);
        _events.Record("orchestrator", $"told the app servers {primary} is the primary; they see: {string.Join(", ", replies)}");
    }

    private async Task<string> TellAsync(ServerSpec app)
    {
        try
        {
            using var response = await _client.PostAsync(new Uri($"http://{_topology.AdminEndPoint(app)}{AdminPaths.PrimaryChanged}"), content: null).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            var reply = await response.Content.ReadFromJsonAsync<PrimaryChangedReply>().ConfigureAwait(false);
            return $"{app.Name} {reply?.Primary ?? "none"}";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return $"{app.Name} not told ({e.Message})";
        }
    }

    public void Dispose() => _client.Dispose();
}
