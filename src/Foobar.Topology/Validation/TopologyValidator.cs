using System.Net;

namespace Foobar.Topology.Validation;

/// <summary>
/// Rules a topology must follow to be started: the ones YAML syntax cannot express (unique
/// addresses, tiers that have what they forward to, free ports per address, one db primary).
/// </summary>
public static class TopologyValidator
{
    /// <summary>Every rule <paramref name="topology"/> breaks; empty when it can run.</summary>
    public static IReadOnlyList<Finding> Validate(Topology topology)
    {
        var findings = new List<Finding>();
        CheckDomain(topology, findings);
        CheckAddresses(topology, findings);
        CheckTiers(topology, findings);
        CheckPorts(topology, findings);
        CheckHttps(topology, findings);
        CheckDatabase(topology, findings);
        return findings;
    }

    private static void CheckDomain(Topology topology, List<Finding> findings)
    {
        var labels = topology.Domain.Split('.');
        if (labels.Length < 2 || labels.Any(l => !ServerNames.IsValid(l) && !(l.Length > 0 && l.All(char.IsAsciiLetterOrDigit))))
        {
            findings.Add(new Finding("domain", $"'{topology.Domain}' is not a domain name", "write it like foobar.com"));
        }
    }

    private static void CheckAddresses(Topology topology, List<Finding> findings)
    {
        if (!topology.Range.Contains(topology.Public.Address))
        {
            findings.Add(new Finding("public.address", $"{topology.Public.Address} is outside network.range {topology.Range}",
                "pick an address inside the range, or remove the key to use the range's first address"));
        }
        var owners = new Dictionary<IPAddress, string> { [topology.Public.Address] = "the public address" };
        owners.TryAdd(topology.ControlAddress, "the control plane (the range's last address)");
        foreach (var server in topology.Servers)
        {
            var key = $"servers.{server.Name}.address";
            if (!topology.Range.Contains(server.Address))
            {
                findings.Add(new Finding(key, $"{server.Address} is outside network.range {topology.Range}",
                    "pick an address inside the range, or remove the key and let the address plan choose"));
            }
            if (!owners.TryAdd(server.Address, server.Name))
            {
                findings.Add(new Finding(key, $"duplicate address {server.Address}, already used by {owners[server.Address]}",
                    "give every server and the public address its own address, or remove the key and let the address plan choose"));
            }
        }
    }

    private static void CheckTiers(Topology topology, List<Finding> findings)
    {
        if (topology.Servers.Count == 0)
        {
            findings.Add(new Finding("servers", "no servers", "add servers; see foobar.yaml at the repository root"));
            return;
        }
        bool Missing(Role role) => topology.ServersWith(role).Count == 0;
        if (Missing(Role.Lb))
        {
            findings.Add(new Finding("servers", "no server has the role lb, so nothing would answer at the public address",
                "add a server with 'roles: [lb]' (two, for no single point of failure)"));
        }
        else if (Missing(Role.Web))
        {
            findings.Add(new Finding("servers", "the load balancers forward to web servers, but no server has the role web",
                "add a server with 'roles: [web]'"));
        }
        if (!Missing(Role.Web) && Missing(Role.App))
        {
            findings.Add(new Finding("servers", "the web servers forward dynamic requests to app servers, but no server has the role app",
                "add a server with 'roles: [app]' (web and app may share a server: 'roles: [web, app]')"));
        }
    }

    private static void CheckPorts(Topology topology, List<Finding> findings)
    {
        foreach (var server in topology.Servers)
        {
            var used = new Dictionary<int, string> { [topology.Admin.Port] = "the admin listener (admin.port)" };
            // Active-active load balancers serve HTTPS on their own addresses too.
            if (server.Has(Role.Lb) && topology.Lb.Mode == LbMode.ActiveActive && topology.Public.HttpsPort is { } https)
            {
                Use(server, used, https, "HTTPS", "public.https", findings);
            }
            foreach (var role in server.Roles)
            {
                Use(server, used, topology.PortOf(role), $"the {role.Name()} role", $"{role.Name()}.port", findings);
            }
            // Your own application's way to the db primary, on each app server.
            if (server.Has(Role.App) && topology.App.Command is not null && topology.ServersWith(Role.Db).Count > 0)
            {
                Use(server, used, topology.App.DbPrimaryPort, "the db primary endpoint", "app.db_primary_port", findings);
            }
        }
    }

    private static void Use(ServerSpec server, Dictionary<int, string> used, int port, string what, string key, List<Finding> findings)
    {
        if (!used.TryAdd(port, $"{what} ({key})"))
        {
            findings.Add(new Finding($"servers.{server.Name}.roles",
                $"port clash on {server.Address}: {what} and {used[port]} both use port {port}",
                $"set {key} to another port, or move the role to another server"));
        }
    }

    private static void CheckHttps(Topology topology, List<Finding> findings)
    {
        if (topology.App is { Tls: true, Command: not null })
        {
            findings.Add(new Finding("app.tls", "TLS to the app servers with your own application command: it would have to speak TLS itself",
                "remove 'tls: true' under app: (the hop stays on the app server's own address), or the command"));
        }
        if (topology.Public.HttpsPort is not null && topology.Public.Terminate == TlsTermination.Web && !topology.Web.Tls)
        {
            findings.Add(new Finding("public.terminate", "TLS is to end at the web servers, but they do not speak TLS",
                "add 'tls: true' under web:, or use 'terminate: lb'"));
        }
    }

    private static void CheckDatabase(Topology topology, List<Finding> findings)
    {
        var dbServers = topology.ServersWith(Role.Db);
        foreach (var server in topology.Servers.Where(s => s.Db is not null && !s.Has(Role.Db)))
        {
            findings.Add(new Finding($"servers.{server.Name}.db", $"'db: {server.Db!.Value.ToString().ToLowerInvariant()}' on a server without the db role",
                "add db to its roles, or remove the key"));
        }
        if (dbServers.Count == 0)
        {
            return;
        }
        var primaries = dbServers.Where(s => s.Db == DbRole.Primary).ToList();
        if (primaries.Count > 1)
        {
            findings.Add(new Finding($"servers.{primaries[1].Name}.db", $"two primaries: {primaries[0].Name} and {primaries[1].Name}",
                "mark exactly one db server 'db: primary' and the others 'db: replica'"));
        }
        else if (primaries.Count == 0 && (dbServers.Count > 1 || dbServers[0].Db == DbRole.Replica))
        {
            var key = dbServers.Any(s => s.Db == DbRole.Replica) ? "a replica but no primary" : "several db servers and no primary";
            findings.Add(new Finding($"servers.{dbServers[0].Name}.db", $"the db tier has {key}",
                $"mark one db server 'db: primary' (for example {dbServers[0].Name})"));
        }
    }
}
