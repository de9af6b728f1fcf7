using System.Globalization;
using System.Text;
using Foobar.App.Guestbook;
using Foobar.App.Pages;
using Foobar.Http;
using Foobar.Http.Forwarder;
using Microsoft.AspNetCore.Http;
using static Foobar.App.Pages.Layout;

namespace Foobar.App.Infrastructure;

/// <summary>
/// <c>GET /infrastructure</c>: the path this very request took — client, load balancer, web server,
/// app server, and the db server that answered its read — drawn above the whole site's servers,
/// with the ones it passed through marked. Reloading shows round robin at each tier and reads
/// spread over the replicas.
/// </summary>
public static class InfrastructurePage
{
    /// <summary>Renders the page for <paramref name="context"/>'s request.</summary>
    public static async Task RenderAsync(HttpContext context, AppOptions options)
    {
        var path = RequestPath.Of(context.Request, options.Site);
        var (db, count, problem) = await ReadAsync(context, options);
        ServedBy.Set(context.Response, options.ServerName, db);
        var self = options.Site.Servers.FirstOrDefault(s => s.Name == options.ServerName);
        var dbServer = db is null ? null : options.Site.Servers.FirstOrDefault(s => s.Name == db);

        var html = Layout.Begin(options.SiteHost, "infrastructure");
        html.Append("""
                <h2>The path of this request</h2>
                <ol class="hops">

            """);
        Hop(html, "client", path.Client?.ToString() ?? "unknown", null);
        if (path.LoadBalancer is { } lb)
        {
            Hop(html, "load balancer", lb.Name, lb.Address.ToString());
        }
        else if (path.Web is not null)
        {
            Hop(html, "load balancer", options.Site.TlsEndsAt == "web" ? "TLS passed through" : "none", null);
        }
        if (path.Web is { } web)
        {
            Hop(html, "web server", web.Name, web.Address.ToString());
        }
        Hop(html, "app server", options.ServerName, self?.Address.ToString());
        Hop(html, "database", db ?? "none answered", dbServer?.Address.ToString());
        html.Append("    </ol>\n");
        html.Append(CultureInfo.InvariantCulture, $"""
                <p class="path">Request <code>{Html.Encode(context.Request.Headers[HttpForwarder.RequestIdHeader].ToString() is { Length: > 0 } id ? id : "without an id")}</code>{TlsLine(options.Site, context)}.
                Reads go to a replica when one is up to date, writes to the primary{(options.Entries?.Primary is { } primary ? $" (now <strong>{Html.Encode(primary)}</strong>)" : "")}.
                {(count is { } n ? $"The guestbook holds {n} {(n == 1 ? "entry" : "entries")}, counted by {Html.Encode(db!)}." : Html.Encode(problem ?? ""))}
                Reload to watch each tier take turns.</p>
                <h2>The site</h2>
                <table class="servers">
                  <thead><tr><th>Server</th><th>Address</th><th>Roles</th><th>This request</th></tr></thead>
                  <tbody>

            """);
        var onPath = new HashSet<string?>([path.LoadBalancer?.Name, path.Web?.Name, options.ServerName, db]);
        foreach (var server in options.Site.Servers)
        {
            var on = onPath.Contains(server.Name);
            html.Append(CultureInfo.InvariantCulture, $"""
                    <tr{(on ? " class=\"on-path\"" : "")}><td>{Html.Encode(server.Name)}</td><td><code>{server.Address}</code></td><td>{Html.Encode(RolesOf(server, options))}</td><td>{(on ? "passed through" : "")}</td></tr>

                """);
        }
        html.Append("""
                  </tbody>
                </table>

            """);
        if (options.Site.PublicAddress is { } address)
        {
            html.Append(CultureInfo.InvariantCulture, $"""    <p class="path">{Html.Encode(options.SiteHost)} resolves to <code>{address}</code>, held by the active load balancer.</p>""").Append('\n');
        }
        await Layout.SendAsync(context, html, StatusCodes.Status200OK);
    }

    /// <summary>The roles, a db server's with its place now as this app server sees it.</summary>
    private static string RolesOf(SiteServer server, AppOptions options) => string.Join(", ", server.Roles.Select(role =>
        role != "db" || options.Entries is not { } store ? role
        : store.Primary == server.Name ? "db (primary)"
        : store.ReachableServers.Contains(server.Name) ? "db (replica)"
        : "db (not answering)"));

    private static string TlsLine(SiteMap site, HttpContext context) =>
        context.Request.Headers["X-Forwarded-Proto"].ToString() == "https" || context.Request.IsHttps
            ? $", over HTTPS ended at the {(site.TlsEndsAt == "web" ? "web server" : "load balancer")}"
            : ", over plain HTTP";

    private static void Hop(StringBuilder html, string tier, string name, string? address) =>
        html.Append(CultureInfo.InvariantCulture, $"""
                  <li><span class="tier">{Html.Encode(tier)}</span> <strong>{Html.Encode(name)}</strong>{(address is null ? "" : $" <code>{Html.Encode(address)}</code>")}</li>

            """);

    /// <summary>The db server that answered and the entry count; the page renders without them when none answers.</summary>
    private static async Task<(string? Db, long? Count, string? Problem)> ReadAsync(HttpContext context, AppOptions options)
    {
        if (options.Entries is not { } store)
        {
            return (null, null, "This site has no database.");
        }
        try
        {
            var result = await store.CountAsync(EntriesApi.SessionGtid(context), context.RequestAborted);
            return (result.ServedBy, result.Value, null);
        }
        catch (Exception e) when (DbFailures.IsUnavailable(e))
        {
            return (null, null, "No db server answers just now.");
        }
    }
}
