using Foobar.App.Guestbook;
using Foobar.App.Infrastructure;
using Foobar.App.Limits;

namespace Foobar.App;

/// <summary>What the application needs to know about where it runs.</summary>
/// <param name="ServerName">This server's name, for X-Served-By and the page.</param>
/// <param name="SiteHost">The site's host name (www.foobar.com).</param>
/// <param name="Entries">The guestbook's store; null when the topology has no database.</param>
public sealed record AppOptions(string ServerName, string SiteHost, EntryStore? Entries = null)
{
    /// <summary>
    /// The site's servers: shown on <c>/infrastructure</c>, and its load balancers and web servers
    /// are the proxies whose <c>X-Forwarded-For</c> entries are believed when working out who the
    /// client is. Default: nothing known, no proxy trusted.
    /// </summary>
    public SiteMap Site { get; init; } = SiteMap.Unknown;

    /// <summary>How often one client may sign the guestbook; null: no limit.</summary>
    public WriteLimit? WriteLimit { get; init; }
}
