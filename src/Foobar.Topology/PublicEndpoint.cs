using System.Net;

namespace Foobar.Topology;

/// <summary>The address www.&lt;domain&gt; resolves to, held by the active load balancer.</summary>
/// <param name="Address">Floating address; default: the first host address of the range.</param>
/// <param name="HttpPort">Plain HTTP port; default 80, what a browser uses without a port.</param>
public sealed record PublicEndpoint(IPAddress Address, int HttpPort = 80)
{
    /// <summary>
    /// HTTPS port, on the public address (and on each load balancer's own address in
    /// active-active). Null: no HTTPS.
    /// </summary>
    public int? HttpsPort { get; init; }

    /// <summary>Where TLS from clients ends. Default <see cref="TlsTermination.LoadBalancer"/>.</summary>
    public TlsTermination Terminate { get; init; } = TlsTermination.LoadBalancer;

    /// <summary>A certificate file (PEM) of one's own, relative to the topology file; null: the local authority's.</summary>
    public string? Certificate { get; init; }

    /// <summary>Its private key (PEM), with <see cref="Certificate"/>.</summary>
    public string? Key { get; init; }

    /// <summary>With HTTPS, whether plain HTTP answers 308 to the same URL over https. Default true.</summary>
    public bool Redirect { get; init; } = true;

    /// <summary>The Strict-Transport-Security value sent over HTTPS; null for none. Default one year.</summary>
    public string? Hsts { get; init; } = "max-age=31536000";

    /// <summary>The site's URL for <paramref name="domain"/>: https when there is HTTPS.</summary>
    public string Url(string domain) => HttpsPort is { } https
        ? (https == 443 ? $"https://www.{domain}/" : $"https://www.{domain}:{https}/")
        : (HttpPort == 80 ? $"http://www.{domain}/" : $"http://www.{domain}:{HttpPort}/");
}

/// <summary>Where the site's TLS ends (<c>public.terminate</c>).</summary>
public enum TlsTermination
{
    /// <summary>
    /// <c>lb</c>: the load balancers hold the certificate, decrypt, and forward HTTP (https too
    /// when <see cref="WebSettings.Tls"/>).
    /// </summary>
    LoadBalancer,

    /// <summary>
    /// <c>web</c>: the load balancers pass HTTPS connections through to the web servers as they
    /// are (TCP, with a PROXY protocol header naming the client), and the web servers decrypt.
    /// The load balancers never see the plaintext.
    /// </summary>
    Web,
}
