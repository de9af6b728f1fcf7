using System.Net;

namespace Foobar.Topology;

/// <summary>The address www.&lt;domain&gt; resolves to, held by the active load balancer.</summary>
/// <param name="Address">Floating address; default: the first host address of the range.</param>
/// <param name="HttpPort">Plain HTTP port; default 80, what a browser uses without a port.</param>
public sealed record PublicEndpoint(IPAddress Address, int HttpPort = 80)
{
    /// <summary>The site's URL for <paramref name="domain"/>.</summary>
    public string Url(string domain) => HttpPort == 80 ? $"http://www.{domain}/" : $"http://www.{domain}:{HttpPort}/";
}
