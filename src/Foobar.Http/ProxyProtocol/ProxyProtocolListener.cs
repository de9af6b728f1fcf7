using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Foobar.Http.ProxyProtocol;

/// <summary>
/// Accepts a PROXY protocol v2 header (<see cref="ProxyHeader"/>) at the start of connections
/// from trusted proxies, and makes the client it names the connection's remote end: what
/// <c>HttpContext.Connection.RemoteIpAddress</c>, X-Forwarded-For and the access log then show.
/// </summary>
/// <remarks>
/// The header is optional, so the same port serves the proxies' passed-through client connections
/// and their own (health checks, forwarded requests). Only a connection from an address
/// <c>trusted</c> accepts is read for one: anyone else's bytes go on untouched, so a client cannot
/// claim another address (its header then fails the TLS handshake or the HTTP parser). A
/// malformed header from a trusted proxy closes the connection. Add it before <c>UseHttps</c>.
/// </remarks>
public static class ProxyProtocolListener
{
    /// <summary>Reads the header on <paramref name="listen"/>'s connections from addresses <paramref name="trusted"/> accepts.</summary>
    public static ListenOptions UseProxyProtocol(this ListenOptions listen, Func<IPAddress, bool> trusted)
    {
        listen.Use(next => connection => AcceptAsync(connection, next, trusted));
        return listen;
    }

    private static async Task AcceptAsync(ConnectionContext connection, ConnectionDelegate next, Func<IPAddress, bool> trusted)
    {
        if (connection.RemoteEndPoint is IPEndPoint remote && trusted(remote.Address))
        {
            try
            {
                if (await ReadHeaderAsync(connection).ConfigureAwait(false) is { } client)
                {
                    connection.RemoteEndPoint = client;
                }
            }
            catch (Exception e) when (e is InvalidDataException or OperationCanceledException)
            {
                connection.Abort(new ConnectionAbortedException($"PROXY protocol header from {remote}: {e.Message}", e));
                return;
            }
        }
        await next(connection).ConfigureAwait(false);
    }

    /// <summary>The client a header names, consuming the header; null when there is none (nothing consumed) or it is a LOCAL one.</summary>
    private static async Task<IPEndPoint?> ReadHeaderAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        using var deadline = new CancellationTokenSource(KestrelSettings.RequestHeadersTimeout);
        while (true)
        {
            var result = await input.ReadAsync(deadline.Token).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (!ProxyHeader.MayStartWithHeader(buffer))
            {
                input.AdvanceTo(buffer.Start);
                return null;
            }
            ProxyHeader.Parse(buffer, out var length, out var source, out _);
            if (length > 0)
            {
                input.AdvanceTo(buffer.GetPosition(length));
                return source;
            }
            if (result.IsCompleted)
            {
                throw new InvalidDataException($"the connection closed after {buffer.Length} bytes of the header");
            }
            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}
