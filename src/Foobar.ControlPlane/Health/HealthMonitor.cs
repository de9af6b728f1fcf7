using Foobar.ControlPlane.Api;
using Foobar.ControlPlane.Supervision;
using Foobar.Server.Admin;

namespace Foobar.ControlPlane.Health;

/// <summary>
/// Asks every running server's admin listener for <c>/healthz</c> and hands the answer to its
/// supervisor: every 250 ms while a server is starting (so <c>up</c> sees readiness quickly),
/// every second otherwise.
/// </summary>
internal sealed class HealthMonitor(Func<Topology.Topology> topology, Func<IReadOnlyList<ServerSupervisor>> supervisors, TimeProvider timeProvider)
{
    private static readonly TimeSpan FastInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan SteadyInterval = TimeSpan.FromSeconds(1);

    private readonly HttpClient _client = ServerAdminClient.Create(TimeSpan.FromSeconds(1));

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using (_client)
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var current = supervisors();
                await Task.WhenAll(current.Select(s => CheckAsync(s, cancellationToken))).ConfigureAwait(false);
                var interval = current.Any(s => s.State == ServerState.Starting) ? FastInterval : SteadyInterval;
                try
                {
                    await Task.Delay(interval, timeProvider, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task CheckAsync(ServerSupervisor supervisor, CancellationToken cancellationToken)
    {
        if (supervisor.Process is not { } process)
        {
            return;
        }
        var now = topology();
        if (now.Find(supervisor.Name) is not { } server)
        {
            return;
        }
        supervisor.ReportHealth(process, await ServerHealthClient.GetAsync(_client, now.AdminEndPoint(server), cancellationToken).ConfigureAwait(false));
    }
}
