using System.Text.Json;
using Foobar.Topology;

namespace Foobar.ControlPlane.Reload;

/// <summary>
/// What <c>foobar reload</c> changes in a running infrastructure: web and app servers added or
/// removed, servers whose weight, backup or maxconn changed, and the web servers' root, proxy and
/// static prefixes and Cache-Control rules. Anything else needs a restart of the infrastructure,
/// and <see cref="Between"/> says so rather than apply half of it.
/// </summary>
/// <param name="Added">Servers in the new topology only; they are started.</param>
/// <param name="Removed">Servers in the running topology only; they leave rotation, then stop.</param>
/// <param name="Reweighted">Servers whose weight, backup or maxconn changed; the tiers in front follow.</param>
/// <param name="WebSettings">Whether <c>web.root</c>, <c>proxy</c>, <c>static</c> or <c>cache_control</c> changed; the web servers follow.</param>
public sealed record TopologyChange(IReadOnlyList<ServerSpec> Added, IReadOnlyList<ServerSpec> Removed, IReadOnlyList<ServerSpec> Reweighted, bool WebSettings = false)
{
    /// <summary>The web settings a reload applies; any other web setting needs a restart.</summary>
    private static WebSettings Reloadable(WebSettings web) => web with { Root = "", Proxy = [], Static = [], CacheControl = [] };

    /// <summary>Roles whose servers a reload may add or remove: the backends of a tier in front.</summary>
    public static readonly IReadOnlyList<Role> ReloadableRoles = [Role.Web, Role.App];

    /// <summary>Whether nothing changes.</summary>
    public bool IsEmpty => Added.Count == 0 && Removed.Count == 0 && Reweighted.Count == 0 && !WebSettings;

    /// <summary>The change from <paramref name="running"/> to <paramref name="next"/>.</summary>
    /// <exception cref="InvalidOperationException">The change is more than a reload applies; the message names every part and what to do.</exception>
    public static TopologyChange Between(Topology.Topology running, Topology.Topology next)
    {
        var refusals = new List<string>();
        Compare(refusals, "domain", running.Domain, next.Domain);
        Compare(refusals, "network.range", running.Range.ToString(), next.Range.ToString());
        Compare(refusals, "public", $"{running.Public.Address}:{running.Public.HttpPort}", $"{next.Public.Address}:{next.Public.HttpPort}");
        Compare(refusals, "lb", Json(running.Lb), Json(next.Lb));
        Compare(refusals, "web (port, check_path, check_interval, access_log)", Json(Reloadable(running.Web)), Json(Reloadable(next.Web)));
        var webSettings = running.WebRootPath != next.WebRootPath || Json(running.Web) != Json(next.Web);
        Compare(refusals, "app", Json(running.App), Json(next.App));
        Compare(refusals, "db", Json(running.Db), Json(next.Db));
        Compare(refusals, "dns", Json(running.Dns), Json(next.Dns));
        Compare(refusals, "admin", Json(running.Admin), Json(next.Admin));

        var added = next.Servers.Where(s => running.Find(s.Name) is null).ToList();
        var removed = running.Servers.Where(s => next.Find(s.Name) is null).ToList();
        foreach (var server in added.Concat(removed).Where(s => !s.Roles.All(ReloadableRoles.Contains)))
        {
            var verb = added.Contains(server) ? "added" : "removed";
            refusals.Add($"servers.{server.Name}: a server with the roles {string.Join(", ", server.Roles.Select(r => r.Name()))} cannot be {verb} by a reload, only web and app servers");
        }
        var reweighted = new List<ServerSpec>();
        foreach (var now in next.Servers)
        {
            if (running.Find(now.Name) is not { } before)
            {
                continue;
            }
            if (!before.Address.Equals(now.Address))
            {
                refusals.Add($"servers.{now.Name}: its address would change from {before.Address} to {now.Address}" +
                    " (addresses are assigned in file order: give servers explicit addresses, or add new servers at the end)");
            }
            if (!before.Roles.SequenceEqual(now.Roles) || before.Db != now.Db)
            {
                refusals.Add($"servers.{now.Name}: its roles changed; remove it in one reload and add it under a new name in another, or restart the infrastructure");
            }
            if (before.Weight != now.Weight || before.Backup != now.Backup || before.MaxConn != now.MaxConn)
            {
                reweighted.Add(now);
            }
        }
        if (refusals.Count > 0)
        {
            throw new InvalidOperationException("the new topology changes more than a reload applies (web and app servers added or removed; weight, backup, maxconn; web root, proxy, static, cache_control): "
                + string.Join("; ", refusals) + ". For the rest: 'foobar down', then 'foobar up'");
        }
        return new TopologyChange(added, removed, reweighted, webSettings);
    }

    /// <summary>One line for the operator and the event log.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        if (Added.Count > 0)
        {
            parts.Add("added " + string.Join(", ", Added.Select(s => s.Name)));
        }
        if (Removed.Count > 0)
        {
            parts.Add("removed " + string.Join(", ", Removed.Select(s => s.Name)));
        }
        if (Reweighted.Count > 0)
        {
            parts.Add("changed the weight, backup or maxconn of " + string.Join(", ", Reweighted.Select(s => s.Name)));
        }
        if (WebSettings)
        {
            parts.Add("changed the web servers' root, prefixes or Cache-Control rules");
        }
        return parts.Count == 0 ? "nothing changed" : string.Join("; ", parts);
    }

    private static void Compare(List<string> refusals, string what, string before, string after)
    {
        if (before != after)
        {
            refusals.Add($"{what} changed");
        }
    }

    private static string Json<T>(T settings) => JsonSerializer.Serialize(settings);
}
