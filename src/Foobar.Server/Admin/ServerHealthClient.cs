using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Foobar.Server.Admin;

/// <summary>Asks a server's admin listener for its <see cref="ServerHealthReport"/>: the control plane's checks, the standby's heartbeats, the dns role's view of the load balancers.</summary>
public static class ServerHealthClient
{
    /// <summary>
    /// The report of the server whose admin listener is <paramref name="admin"/>, whatever its
    /// status (a server not ready answers 503 with its report: it is alive); null when it did not
    /// answer within <paramref name="client"/>'s timeout or answered something else.
    /// </summary>
    public static async Task<ServerHealthReport?> GetAsync(HttpClient client, IPEndPoint admin, CancellationToken cancellationToken) =>
        (await AskAsync(client, admin, cancellationToken).ConfigureAwait(false)).Report;

    /// <summary>As <see cref="GetAsync"/>, with why there is no report when there is none (for a log line).</summary>
    public static async Task<HealthAnswer> AskAsync(HttpClient client, IPEndPoint admin, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await client.GetAsync(new Uri($"http://{admin}{AdminPaths.Health}"), cancellationToken).ConfigureAwait(false);
            return new(await response.Content.ReadFromJsonAsync<ServerHealthReport>(cancellationToken).ConfigureAwait(false), null);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new(null, $"no answer within {client.Timeout.TotalSeconds:0.###} s");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return new(null, e.Message);
        }
    }
}

/// <summary>A server's health report, or why none came.</summary>
/// <param name="Report">The report; null when none came.</param>
/// <param name="Failure">Why none came; null when one did.</param>
public readonly record struct HealthAnswer(ServerHealthReport? Report, string? Failure);
