using System.Diagnostics;
using System.Net;

namespace Foobar.Http.Forwarder;

/// <summary>The outgoing HTTP client for forwarding: pooled keep-alive, no proxy, no cookies, no redirects.</summary>
public static class ForwarderClient
{
    /// <summary>Time to open a connection to a backend. Default 2 s: on one machine or a LAN a live server accepts in milliseconds.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Creates the invoker a forwarder or health checker sends with.</summary>
    public static HttpMessageInvoker Create(TimeSpan? connectTimeout = null) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ConnectTimeout = connectTimeout ?? DefaultConnectTimeout,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(50),
        ActivityHeadersPropagator = DistributedContextPropagator.CreateNoOutputPropagator(),
    }, disposeHandler: true);
}
