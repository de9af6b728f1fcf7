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
    public static async Task<ServerHealthReport?> GetAsync(HttpClient client, IPEndPoint admin, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await client.GetAsync(new Uri($"http://{admin}{AdminPaths.Health}"), cancellationToken).ConfigureAwait(false);
            return await response.Content.ReadFromJsonAsync<ServerHealthReport>(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return null;
        }
    }
}
