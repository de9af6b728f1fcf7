using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Foobar.Http.Forwarder;

/// <summary>
/// The bytes of an upgraded connection (a WebSocket) carried both ways between the client and the
/// backend that answered 101 Switching Protocols, until either side closes. The client's side is
/// an HTTP/1.1 upgrade, or an HTTP/2 stream opened with extended CONNECT (RFC 8441), which goes to
/// the backend as the HTTP/1.1 handshake.
/// </summary>
internal static class UpgradeTunnel
{
    /// <summary>Whether the request is a WebSocket opened over HTTP/2 (extended CONNECT, <c>:protocol websocket</c>).</summary>
    public static bool IsWebSocketOverHttp2(HttpContext context) =>
        context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true, Protocol: var protocol }
        && string.Equals(protocol, "websocket", StringComparison.OrdinalIgnoreCase);

    /// <summary>How the client's side is taken over once the backend answers 101; null when the request asked for no upgrade.</summary>
    public static Func<Task<Stream>>? TakeOver(HttpContext context)
    {
        if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade)
        {
            return upgrade.UpgradeAsync;
        }
        if (IsWebSocketOverHttp2(context))
        {
            var connect = context.Features.GetRequiredFeature<IHttpExtendedConnectFeature>();
            return () => connect.AcceptAsync().AsTask();
        }
        return null;
    }

    /// <summary>
    /// The HTTP/1.1 WebSocket handshake headers an HTTP/2 client does not send (RFC 8441 §5): the
    /// upgrade itself and a fresh key; its version, protocols and extensions are copied as they came.
    /// </summary>
    public static void AddWebSocketHandshake(HttpRequestMessage message)
    {
        message.Headers.TryAddWithoutValidation("Connection", "Upgrade");
        message.Headers.TryAddWithoutValidation("Upgrade", "websocket");
        message.Headers.TryAddWithoutValidation("Sec-WebSocket-Key", Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)));
    }

    /// <summary>Takes the client's side over and copies both ways until one direction ends, then closes both.</summary>
    public static async Task RunAsync(Func<Task<Stream>> takeOver, HttpResponseMessage response, CancellationToken aborted)
    {
        // After a 101, SocketsHttpHandler hands out the backend connection itself as the content stream, readable and writable.
        var backend = await response.Content.ReadAsStreamAsync(aborted).ConfigureAwait(false);
        await using (backend.ConfigureAwait(false))
        {
            var client = await takeOver().ConfigureAwait(false);
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
