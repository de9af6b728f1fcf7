using System.Net;

namespace Foobar.App.Infrastructure;

/// <summary>One server of the site as the application shows it.</summary>
/// <param name="Name">Its name (lb1, web2 ...).</param>
/// <param name="Address">Its own address.</param>
/// <param name="Roles">Its roles: lb, web, app, db, dns.</param>
public sealed record SiteServer(string Name, IPAddress Address, IReadOnlyList<string> Roles)
{
    /// <summary>Whether it has <paramref name="role"/>.</summary>
    public bool Has(string role) => Roles.Contains(role);
}

/// <summary>
/// The servers of the site, for the <c>/infrastructure</c> page and for knowing which addresses are
/// the site's own proxies (load balancers and web servers), whose <c>X-Forwarded-For</c> is believed.
/// </summary>
/// <param name="Servers">Every server, in the topology's order.</param>
/// <param name="PublicAddress">The site's public address.</param>
/// <param name="TlsEndsAt">Where HTTPS ends: <c>lb</c>, <c>web</c>, or null without HTTPS.</param>
public sealed record SiteMap(IReadOnlyList<SiteServer> Servers, IPAddress? PublicAddress = null, string? TlsEndsAt = null)
{
    /// <summary>A site of which nothing is known: no proxy is trusted.</summary>
    public static SiteMap Unknown { get; } = new([]);

    /// <summary>The server with <paramref name="address"/>, or null.</summary>
    public SiteServer? Find(IPAddress address) => Servers.FirstOrDefault(s => s.Address.Equals(address));

    /// <summary>Whether <paramref name="address"/> is one of the site's load balancers or web servers.</summary>
    public bool IsProxy(IPAddress address) => Find(address) is { } server && (server.Has("lb") || server.Has("web"));
}
