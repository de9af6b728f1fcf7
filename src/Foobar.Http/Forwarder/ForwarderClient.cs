using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.Security;
using Foobar.Http.Tls;
using System.Security.Cryptography.X509Certificates;

namespace Foobar.Http.Forwarder;

/// <summary>The outgoing HTTP client for forwarding: pooled keep-alive, no proxy, no cookies, no redirects.</summary>
public static class ForwarderClient
{
    /// <summary>Time for a backend to accept a connection. Default 2 s: on one machine or a LAN a live server accepts in milliseconds.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Creates the invoker a forwarder or health checker sends with.</summary>
    /// <param name="connectTimeout">
    /// Time for a backend to accept the TCP connection; null for <see cref="DefaultConnectTimeout"/>.
    /// As HAProxy's <c>timeout connect</c> it ends once the connection is open: an https backend's
    /// TLS handshake counts against the request's own deadline (the forwarder's response timeout,
    /// a health check's timeout), since a busy server may take longer over it than to accept.
    /// </param>
    /// <param name="localAddress">The address connections come from (this server's own); null: whatever the kernel picks.</param>
    /// <param name="authority">
    /// For https backends: the one authority their certificates must chain to (the topology's
    /// local one), instead of the system's. The certificate must still name the address or host
    /// connected to. Null: the system's authorities.
    /// </param>
    public static HttpMessageInvoker Create(TimeSpan? connectTimeout = null, X509Certificate2? authority = null, IPAddress? localAddress = null)
    {
        var timeout = connectTimeout ?? DefaultConnectTimeout;
        return new(new SocketsHttpHandler
        {
            ConnectCallback = (context, token) => ConnectAsync(context.DnsEndPoint, localAddress, timeout, token),
            SslOptions = authority is null ? new SslClientAuthenticationOptions() : AuthorityTrust.Only(authority),
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            // The handler's own timeout would take the TLS handshake in too: the callback's is the connect's.
            ConnectTimeout = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(50),
            ActivityHeadersPropagator = DistributedContextPropagator.CreateNoOutputPropagator(),
        }, disposeHandler: true);
    }

    /// <summary>Opens a TCP connection to <paramref name="endPoint"/> (from <paramref name="localAddress"/> when given) within <paramref name="timeout"/>.</summary>
    /// <exception cref="HttpRequestException">With <see cref="HttpRequestError.ConnectionError"/>: not accepted within <paramref name="timeout"/>.</exception>
    private static async ValueTask<Stream> ConnectAsync(DnsEndPoint endPoint, IPAddress? localAddress, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var socket = localAddress is null
            ? new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true }
            : new Socket(localAddress.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (localAddress is not null)
            {
                socket.Bind(new IPEndPoint(localAddress, 0));
            }
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            await socket.ConnectAsync(endPoint, deadline.Token).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new HttpRequestException(HttpRequestError.ConnectionError, $"{endPoint.Host}:{endPoint.Port} did not accept a connection within {timeout.TotalSeconds:0.###} s");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
