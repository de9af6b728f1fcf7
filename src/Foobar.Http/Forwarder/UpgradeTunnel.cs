using Microsoft.AspNetCore.Http.Features;

namespace Foobar.Http.Forwarder;

/// <summary>
/// The bytes of an upgraded connection (a WebSocket) carried both ways between the client and the
/// backend that answered 101 Switching Protocols, until either side closes.
/// </summary>
internal static class UpgradeTunnel
{
    /// <summary>Upgrades the client's connection and copies both ways until one direction ends, then closes both.</summary>
    public static async Task RunAsync(IHttpUpgradeFeature upgrade, HttpResponseMessage response, CancellationToken aborted)
    {
        // After a 101, SocketsHttpHandler hands out the backend connection itself as the content stream, readable and writable.
        var backend = await response.Content.ReadAsStreamAsync(aborted).ConfigureAwait(false);
        await using (backend.ConfigureAwait(false))
        {
            var client = await upgrade.UpgradeAsync().ConfigureAwait(false);
            await using (client.ConfigureAwait(false))
            {
                using var done = CancellationTokenSource.CreateLinkedTokenSource(aborted);
                var down = CopyAsync(backend, client, done.Token);
                var up = CopyAsync(client, backend, done.Token);
                await Task.WhenAny(down, up).ConfigureAwait(false);
                await done.CancelAsync().ConfigureAwait(false);
                await Task.WhenAll(down, up).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Copies until the source ends, fails or the tunnel is closed; never throws.</summary>
    private static async Task CopyAsync(Stream from, Stream to, CancellationToken cancellationToken)
    {
        try
        {
            await from.CopyToAsync(to, cancellationToken).ConfigureAwait(false);
            await to.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // One side closed or broke: the tunnel ends either way.
        }
    }
}
