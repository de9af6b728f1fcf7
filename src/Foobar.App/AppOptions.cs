using Foobar.App.Guestbook;

namespace Foobar.App;

/// <summary>What the application needs to know about where it runs.</summary>
/// <param name="ServerName">This server's name, for X-Served-By and the page.</param>
/// <param name="SiteHost">The site's host name (www.foobar.com).</param>
/// <param name="Entries">The guestbook's store; null when the topology has no database.</param>
public sealed record AppOptions(string ServerName, string SiteHost, EntryStore? Entries = null);
