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
    /// <summary>Time to open a connection to a backend. Default 2 s: on one machine or a LAN a live server accepts in milliseconds.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Creates the invoker a forwarder or health checker sends with.</summary>
    /// <param name="connectTimeout">Time to open a connection; null for <see cref="DefaultConnectTimeout"/>.</param>
    /// <param name="localAddress">The address connections come from (this server's own); null: whatever the kernel picks.</param>
    /// <param name="authority">
    /// For https backends: the one authority their certificates must chain to (the topology's
    /// local one), instead of the system's. The certificate must still name the address or host
    /// connected to. Null: the system's authorities.
    /// </param>
    public static HttpMessageInvoker Create(TimeSpan? connectTimeout = null, X509Certificate2? authority = null, IPAddress? localAddress = null) => new(new SocketsHttpHandler
    {
        ConnectCallback = localAddress is null ? null : (context, token) => ConnectFromAsync(localAddress, context.DnsEndPoint, token),
        SslOptions = authority is null ? new SslClientAuthenticationOptions() : AuthorityTrust.Only(authority),
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ConnectTimeout = connectTimeout ?? DefaultConnectTimeout,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(50),
        ActivityHeadersPropagator = DistributedContextPropagator.CreateNoOutputPropagator(),
    }, disposeHandler: true);

    private static async ValueTask<Stream> ConnectFromAsync(IPAddress localAddress, DnsEndPoint endPoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(localAddress.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(new IPEndPoint(localAddress, 0));
            await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
