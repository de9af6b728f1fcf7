using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;

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
    /// Applies the limits and runs requests on the socket event loop: one thread handoff less
    /// per read (with <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c>, set by the server host).
    /// </summary>
    public static void Apply(IWebHostBuilder webHost, Action<KestrelServerOptions> listen)
    {
        webHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = true);
        webHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.RequestHeadersTimeout = RequestHeadersTimeout;
            listen(kestrel);
        });
    }
}
