using System.Net;
using System.Security.Authentication;
using Foobar.Http.Tls;
using Foobar.Http.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Foobar.Http;

/// <summary>
/// How every Kestrel server of Foobar is set up: a server's own listeners and the public address
/// the active load balancer takes. One place, so the public address is protected as the rest.
/// </summary>
public static class KestrelSettings
{
    /// <summary>A client that has not sent its headers by then is cut (slowloris). Kestrel's default is 30 s.</summary>
    public static readonly TimeSpan RequestHeadersTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Applies the limits, serves HTTP/1.1 and HTTP/2 on every listener (<see cref="Http2PriorKnowledge"/>), and runs socket completions and requests on the socket event loop
    /// instead of queueing them to the thread pool: one thread handoff less per read, measured 8 %
    /// less CPU per proxied request on the load balancer (bench/lb.sh). Nothing on these paths
    /// blocks a thread.
    /// </summary>
    /// <remarks>
    /// The runtime reads <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c> when the process makes
    /// its first asynchronous socket (and Foobar.MySql when it makes its first connection): the
    /// server host calls <see cref="PreferInlineCompletions"/> before any, so it takes effect there;
    /// a later call (the public address) finds it set already.
    /// </remarks>
    /// <param name="webHost">The host to set up.</param>
    /// <param name="idleTimeout">How long an idle keep-alive connection stays open; null for Kestrel's default (130 s).</param>
    /// <param name="listen">Adds the listeners.</param>
    public static void Apply(IWebHostBuilder webHost, TimeSpan? idleTimeout, Action<KestrelServerOptions> listen)
    {
        PreferInlineCompletions();
        webHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = true);
        if (EpollTransport.Enabled)
        {
            UseEpollTransport(webHost);
        }
        webHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.RequestHeadersTimeout = RequestHeadersTimeout;
            kestrel.AllowAlternateSchemes = true;
            kestrel.ConfigureEndpointDefaults(endpoint => endpoint.UseHttp2PriorKnowledge());
            if (idleTimeout is { } idle)
            {
                kestrel.Limits.KeepAliveTimeout = idle;
            }
            listen(kestrel);
        });
    }

    /// <summary>
    /// Puts <paramref name="webHost"/>'s IP listeners on Foobar's own transport (<see cref="EpollTransport"/>).
    /// Call it after <c>UseSockets</c>, so Kestrel asks it first; other endpoints stay on Kestrel's sockets.
    /// </summary>
    public static void UseEpollTransport(IWebHostBuilder webHost) =>
        webHost.ConfigureServices(services => services.AddSingleton<IConnectionListenerFactory, EpollTransportFactory>());

    /// <summary>
    /// Asks that socket completions (the runtime's, and the database client's) run on their event
    /// loops: effective only before the process's first socket, so a server calls it first thing.
    /// </summary>
    public static void PreferInlineCompletions() =>
        Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");

    /// <summary>
    /// Makes <paramref name="listen"/> speak TLS: TLS 1.2 and 1.3 only (what Mozilla's
    /// "intermediate" profile allows), HTTP/2 and HTTP/1.1 by ALPN, the certificate chosen per
    /// connection by <see cref="ServerCertificates.Select"/>.
    /// </summary>
    /// <param name="listen">The listener; connection middleware added before this call sees the encrypted bytes.</param>
    /// <param name="certificates">What to present.</param>
    public static ListenOptions UseTls(this ListenOptions listen, ServerCertificates certificates)
    {
        listen.Protocols = HttpProtocols.Http1AndHttp2;
        return listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificateSelector = (_, name) => certificates.Select(name),
            SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        });
    }
}
