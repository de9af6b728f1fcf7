using System.Net;
using System.Net.Sockets;
using Foobar.Topology.Validation;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Foobar.Topology.Loading;

/// <summary>
/// Reads a topology YAML file (format: docs/topology.md) into a validated <see cref="Topology"/>,
/// or throws <see cref="TopologyException"/> listing every problem with its line and fix.
/// </summary>
public static class TopologyLoader
{
    /// <summary>The file used when none is named.</summary>
    public const string DefaultFileName = "foobar.yaml";

    private static readonly Dictionary<string, LbMode> LbModes = new(StringComparer.Ordinal)
    {
        ["active-passive"] = LbMode.ActivePassive,
        ["active-active"] = LbMode.ActiveActive,
    };

    private static readonly Dictionary<string, WebAccessLog> AccessLogs = new(StringComparer.Ordinal)
    {
        ["off"] = WebAccessLog.Off,
        ["combined"] = WebAccessLog.Combined,
        ["json"] = WebAccessLog.Json,
    };

    private static readonly Dictionary<string, TlsTermination> Terminations = new(StringComparer.Ordinal)
    {
        ["lb"] = TlsTermination.LoadBalancer,
        ["web"] = TlsTermination.Web,
    };

    private static readonly Dictionary<string, BalanceAlgorithm> Algorithms = new(StringComparer.Ordinal)
    {
        ["roundrobin"] = BalanceAlgorithm.RoundRobin,
        ["leastconn"] = BalanceAlgorithm.LeastConnections,
        ["random"] = BalanceAlgorithm.Random,
        ["source"] = BalanceAlgorithm.Source,
        ["uri"] = BalanceAlgorithm.Uri,
    };

    private static readonly Dictionary<string, DbRole> DbRoles = new(StringComparer.Ordinal)
    {
        ["primary"] = DbRole.Primary,
        ["replica"] = DbRole.Replica,
    };

    /// <summary>Loads and validates <paramref name="path"/>.</summary>
    public static Topology Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TopologyException([new TopologyProblem(path, 0, 0, "", $"cannot read the topology file: {e.Message}",
                $"check the path, or create it from {DefaultFileName} at the repository root")]);
        }
        return Parse(text, path, Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>Parses and validates YAML <paramref name="text"/>; <paramref name="file"/> names it in problems.</summary>
    public static Topology Parse(string text, string file, string baseDirectory)
    {
        var problems = new ProblemList(file);
        var root = ReadRoot(text, problems);
        var topology = root is null ? null : Build(root, problems, baseDirectory);
        if (topology is not null && problems.Items.Count == 0)
        {
            foreach (var finding in TopologyValidator.Validate(topology))
            {
                problems.Add(finding.Key, finding.Message, finding.Fix);
            }
        }
        if (problems.Items.Count > 0)
        {
            throw new TopologyException(problems.Items.OrderBy(p => p.Line).ThenBy(p => p.Column).ToList());
        }
        return topology!;
    }

    private static YamlSection? ReadRoot(string text, ProblemList problems)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            problems.Add(e.Start, "", $"not valid YAML: {e.Message}",
                "fix the syntax at this line (indentation with spaces, 'key: value', closed brackets and quotes)");
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet throws some syntax errors without a position; the last event parsed is where it broke.
            problems.Add(LastGoodMark(text), "", "not valid YAML: unclosed bracket or brace, or a value where a key was expected",
                "check brackets and braces are closed on this line or the next, and indentation is consistent");
            return null;
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode mapping)
        {
            problems.AddAtStart("the file is empty or is not a mapping", "start from foobar.yaml at the repository root");
            return null;
        }
        return new YamlSection(mapping, "", problems);
    }

    private static Mark LastGoodMark(string text)
    {
        var parser = new Parser(new StringReader(text));
        var mark = Mark.Empty;
        try
        {
            while (parser.MoveNext())
            {
                mark = parser.Current!.End;
            }
        }
        catch (Exception e) when (e is YamlException or InvalidOperationException or ArgumentException)
        {
        }
        return mark;
    }

    private static Topology? Build(YamlSection root, ProblemList problems, string baseDirectory)
    {
        var domain = root.String("domain") ?? "foobar.com";

        var network = root.Section("network");
        var rangeText = network?.String("range");
        network?.RejectUnknownKeys("range");
        AddressRange? range = null;
        if (rangeText is null)
        {
            root.Problem(null, "network.range", "missing the address range", "add 'network: { range: 127.10.0.0/24 }'");
        }
        else if (!AddressRange.TryParse(rangeText, out range, out var rangeError))
        {
            network!.Problem(network.Node("range"), "range", rangeError, "write the first address of the block and a prefix length, like 127.10.0.0/24");
        }

        var publicSection = root.Section("public");
        var publicAddress = ReadAddress(publicSection, "address");
        var httpPort = publicSection?.Port("http") ?? 80;
        var https = ReadHttps(publicSection, httpPort);
        publicSection?.RejectUnknownKeys("address", "http", "https", "certificate", "key", "redirect", "hsts", "terminate");

        var lb = ReadLb(root.Section("lb"));
        var web = ReadWeb(root.Section("web"));
        var app = ReadApp(root.Section("app"));
        var db = ReadDb(root.Section("db"));
        var dns = new DnsSettings { Port = PortOnly(root.Section("dns")) ?? new DnsSettings().Port };
        var admin = new AdminSettings { Port = PortOnly(root.Section("admin")) ?? new AdminSettings().Port };

        var drafts = ReadServers(root, problems);
        root.RejectUnknownKeys("domain", "network", "public", "lb", "web", "app", "db", "dns", "admin", "servers");
        if (range is null || problems.Items.Count > 0)
        {
            return null;
        }

        var publicIp = AddressPlan.PublicAddress(range, publicAddress);
        var addresses = AddressPlan.Assign(range, publicIp, drafts.Select(d => d.Address).ToList());
        var servers = new List<ServerSpec>();
        for (var i = 0; i < drafts.Count; i++)
        {
            if (addresses[i] is not { } address)
            {
                problems.Add($"servers.{drafts[i].Name}", $"no address left in {range} for this server",
                    "use a larger range (a smaller prefix length) in network.range");
                continue;
            }
            servers.Add(new ServerSpec(drafts[i].Name, address, drafts[i].Roles, drafts[i].Db) { Weight = drafts[i].Weight, Backup = drafts[i].Backup, MaxConn = drafts[i].MaxConn });
        }
        return new Topology
        {
            Domain = domain,
            Range = range,
            Public = new PublicEndpoint(publicIp, httpPort)
            {
                HttpsPort = https.Port,
                Certificate = https.Certificate,
                Key = https.Key,
                Redirect = https.Redirect,
                Hsts = https.Hsts,
                Terminate = https.Terminate,
            },
            Servers = servers,
            Lb = lb,
            Web = web,
            App = app,
            Db = db,
            Dns = dns,
            Admin = admin,
            BaseDirectory = baseDirectory,
        };
    }

    private static int? PortOnly(YamlSection? section)
    {
        var port = section?.Port("port");
        section?.RejectUnknownKeys("port");
        return port;
    }

    private static LbSettings ReadLb(YamlSection? section)
    {
        var defaults = new LbSettings();
        if (section is null)
        {
            return defaults;
        }
        var result = new LbSettings
        {
            Port = section.Port("port") ?? defaults.Port,
            Mode = section.Choice("mode", LbModes, "mode") ?? defaults.Mode,
            Balance = section.Choice("balance", Algorithms, "balance algorithm") ?? defaults.Balance,
            CheckPath = ReadPath(section, "check_path") ?? defaults.CheckPath,
            CheckInterval = section.Duration("check_interval") ?? defaults.CheckInterval,
            CheckFastInterval = section.Duration("check_fast_interval") ?? defaults.CheckFastInterval,
            CheckTimeout = section.Duration("check_timeout") ?? defaults.CheckTimeout,
            CheckRise = section.Integer("check_rise", 1, 100) ?? defaults.CheckRise,
            CheckFall = section.Integer("check_fall", 1, 100) ?? defaults.CheckFall,
            CheckStatus = ReadStatuses(section, "check_status") ?? defaults.CheckStatus,
            SlowStart = section.Duration("slow_start") ?? defaults.SlowStart,
            MaxQueue = section.Integer("max_queue", 0, 1_000_000) ?? defaults.MaxQueue,
            QueueTimeout = section.Duration("queue_timeout") ?? defaults.QueueTimeout,
            TimeoutConnect = section.Duration("timeout_connect") ?? defaults.TimeoutConnect,
            TimeoutServer = section.Duration("timeout_server") ?? defaults.TimeoutServer,
            TimeoutClient = section.Duration("timeout_client") ?? defaults.TimeoutClient,
            MaxBody = section.Size("max_body") ?? defaults.MaxBody,
            TakeoverAfter = section.Duration("takeover_after") ?? defaults.TakeoverAfter,
            Workers = section.Integer("workers", 1, 256) ?? defaults.Workers,
        };
        section.RejectUnknownKeys("port", "mode", "balance", "check_path", "check_interval", "check_fast_interval", "check_timeout",
            "check_rise", "check_fall", "check_status", "slow_start", "max_queue", "queue_timeout", "timeout_connect", "timeout_server",
            "timeout_client", "max_body", "takeover_after", "workers");
        return result;
    }

    /// <summary>A list of HTTP status codes (100-599).</summary>
    private static List<int>? ReadStatuses(YamlSection section, string key)
    {
        var texts = section.Strings(key);
        if (texts is null)
        {
            return null;
        }
        var statuses = new List<int>();
        foreach (var text in texts)
        {
            if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var status) && status is >= 100 and <= 599)
            {
                statuses.Add(status);
            }
            else
            {
                section.Problem(section.Node(key), key, $"'{text}' is not an HTTP status", "list statuses from 100 to 599: [200, 204]");
                return null;
            }
        }
        return statuses;
    }

    private static DbSettings ReadDb(YamlSection? section)
    {
        var defaults = new DbSettings();
        if (section is null)
        {
            return defaults;
        }
        var result = new DbSettings
        {
            Port = section.Port("port") ?? defaults.Port,
            SemiSyncTimeout = section.Duration("semi_sync_timeout") ?? defaults.SemiSyncTimeout,
            MaxReplicaLag = section.Duration("max_replica_lag") ?? defaults.MaxReplicaLag,
            FailoverBlock = section.Duration("failover_block") ?? defaults.FailoverBlock,
            DiskReserve = section.Size("disk_reserve") ?? defaults.DiskReserve,
        };
        section.RejectUnknownKeys("port", "semi_sync_timeout", "max_replica_lag", "failover_block", "disk_reserve");
        return result;
    }

    private static WebSettings ReadWeb(YamlSection? section)
    {
        var defaults = new WebSettings();
        if (section is null)
        {
            return defaults;
        }
        var proxy = ReadPrefixes(section, "proxy");
        var result = new WebSettings
        {
            Port = section.Port("port") ?? defaults.Port,
            Root = section.String("root") ?? defaults.Root,
            Proxy = proxy ?? defaults.Proxy,
            CheckPath = ReadPath(section, "check_path") ?? defaults.CheckPath,
            CheckInterval = section.Duration("check_interval") ?? defaults.CheckInterval,
            AccessLog = section.Choice("access_log", AccessLogs, "access log format") ?? defaults.AccessLog,
            Static = ReadPrefixes(section, "static") ?? defaults.Static,
            CacheControl = ReadCacheControl(section) ?? defaults.CacheControl,
            Tls = section.Boolean("tls") ?? defaults.Tls,
            Workers = section.Integer("workers", 1, 256) ?? defaults.Workers,
        };
        section.RejectUnknownKeys("port", "root", "proxy", "check_path", "check_interval", "access_log", "static", "cache_control", "tls", "workers");
        return result;
    }

    private static AppSettings ReadApp(YamlSection? section)
    {
        var defaults = new AppSettings();
        if (section is null)
        {
            return defaults;
        }
        var result = new AppSettings
        {
            Port = section.Port("port") ?? defaults.Port,
            Tls = section.Boolean("tls") ?? defaults.Tls,
            Command = section.String("command"),
            WriteLimit = ReadWriteLimit(section, defaults.WriteLimit),
            DbPrimaryPort = section.Port("db_primary_port") ?? defaults.DbPrimaryPort,
        };
        if (result.Command is { } command && string.IsNullOrWhiteSpace(command))
        {
            section.Problem(section.Node("command"), "command", "the command is empty", "write the command that starts your application, like 'python3 app.py', or remove the key for the built-in one");
        }
        section.RejectUnknownKeys("port", "tls", "command", "write_limit", "db_primary_port");
        return result;
    }

    /// <summary><c>app.write_limit</c>: a <see cref="RateText"/> rate, or <c>off</c>.</summary>
    private static RateLimit? ReadWriteLimit(YamlSection section, RateLimit? defaults)
    {
        var text = section.String("write_limit");
        if (text is null)
        {
            return defaults;
        }
        if (text.Equals("off", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        if (RateText.TryParse(text, out var rate))
        {
            return rate;
        }
        section.Problem(section.Node("write_limit"), "write_limit", $"'{text}' is not a rate", "write entries per client and period, like 20/min, 5/s or 100/h, or off");
        return defaults;
    }

    /// <summary>The HTTPS settings of <c>public:</c>.</summary>
    private static (int? Port, string? Certificate, string? Key, bool Redirect, string? Hsts, TlsTermination Terminate) ReadHttps(YamlSection? section, int httpPort)
    {
        var defaults = new PublicEndpoint(System.Net.IPAddress.Loopback);
        if (section is null)
        {
            return (null, null, null, defaults.Redirect, defaults.Hsts, defaults.Terminate);
        }
        var terminate = section.Choice("terminate", Terminations, "place for TLS to end") ?? defaults.Terminate;
        var port = section.Port("https");
        var certificate = section.String("certificate");
        var key = section.String("key");
        var redirect = section.Boolean("redirect") ?? defaults.Redirect;
        var hsts = section.String("hsts") ?? defaults.Hsts;
        if (port == httpPort)
        {
            section.Problem(section.Node("https"), "https", $"the same port as http ({httpPort})", "use another port for https, usually 443");
        }
        if ((certificate is null) != (key is null))
        {
            section.Problem(section.Node(certificate is null ? "key" : "certificate"), certificate is null ? "key" : "certificate",
                "a certificate needs its key and a key its certificate", "give both 'certificate' and 'key', or neither to use the local certificate authority's");
        }
        if (port is null && (certificate is not null || key is not null || section.Node("hsts") is not null || section.Node("redirect") is not null || section.Node("terminate") is not null))
        {
            section.Problem(section.Node("certificate") ?? section.Node("key") ?? section.Node("hsts") ?? section.Node("redirect") ?? section.Node("terminate"), "https",
                "HTTPS settings without an https port", "add 'https: 443', or remove them");
        }
        if (hsts is not null && (hsts == "off" || hsts.AsSpan().IndexOfAny('\r', '\n') >= 0))
        {
            if (hsts != "off")
            {
                section.Problem(section.Node("hsts"), "hsts", "the Strict-Transport-Security value must be one line", "write 'hsts: \"max-age=31536000\"', or 'off'");
            }
            hsts = null;
        }
        return (port, certificate, key, redirect, hsts, terminate);
    }

    /// <summary>A list of path prefixes, each starting with '/'.</summary>
    private static List<string>? ReadPrefixes(YamlSection section, string key)
    {
        var prefixes = section.Strings(key);
        foreach (var prefix in prefixes ?? [])
        {
            if (!prefix.StartsWith('/'))
            {
                section.Problem(section.Node(key), key, $"prefix '{prefix}' does not start with '/'", $"write it as '/{prefix}'");
            }
        }
        return prefixes;
    }

    /// <summary><c>cache_control:</c> pattern → header value, in file order.</summary>
    private static List<KeyValuePair<string, string>>? ReadCacheControl(YamlSection web)
    {
        if (web.Section("cache_control") is not { } section)
        {
            return null;
        }
        var rules = new List<KeyValuePair<string, string>>();
        foreach (var (pattern, node) in section.Entries())
        {
            if (!pattern.StartsWith('/') && !(pattern.StartsWith("*.", StringComparison.Ordinal) && pattern.Length > 2))
            {
                section.Problem(node, pattern, $"pattern '{pattern}' is neither a path prefix nor a suffix", "write a prefix such as '/assets/' or a suffix such as '*.html'");
            }
            else if (node is not YamlDotNet.RepresentationModel.YamlScalarNode { Value: { Length: > 0 } value } || value.AsSpan().IndexOfAny('\r', '\n') >= 0)
            {
                section.Problem(node, pattern, "the Cache-Control value must be one line of text", $"write '{pattern}: \"public, max-age=3600\"'");
            }
            else
            {
                rules.Add(new(pattern, value));
            }
        }
        return rules;
    }

    private static string? ReadPath(YamlSection section, string key)
    {
        var path = section.String(key);
        if (path is not null && !path.StartsWith('/'))
        {
            section.Problem(section.Node(key), key, $"'{path}' is not an absolute URL path", $"write it as '/{path}'");
            return null;
        }
        return path;
    }

    private static IPAddress? ReadAddress(YamlSection? section, string key)
    {
        var text = section?.String(key);
        if (text is null)
        {
            return null;
        }
        if (IPAddress.TryParse(text, out var address) && address.AddressFamily == AddressFamily.InterNetwork && text.Count(c => c == '.') == 3)
        {
            return address;
        }
        section!.Problem(section.Node(key), key, $"'{text}' is not an IPv4 address", "write four numbers separated by dots, like 127.10.0.5");
        return null;
    }

    private sealed record ServerDraft(string Name, IPAddress? Address, IReadOnlyList<Role> Roles, DbRole? Db, int Weight, bool Backup, int MaxConn);

    private static List<ServerDraft> ReadServers(YamlSection root, ProblemList problems)
    {
        var drafts = new List<ServerDraft>();
        var servers = root.Section("servers");
        if (servers is null)
        {
            root.Problem(null, "servers", "no servers", "add a 'servers:' mapping; see foobar.yaml at the repository root");
            return drafts;
        }
        foreach (var (name, node) in servers.Entries())
        {
            if (node is not YamlMappingNode mapping)
            {
                servers.Problem(node, name, "a server must be a mapping", $"write '{name}: {{ roles: [web] }}'");
                continue;
            }
            var server = new YamlSection(mapping, servers.KeyPath(name), problems);
            if (!ServerNames.IsValid(name))
            {
                servers.Problem(node, name, $"'{name}' is not a valid server name", ServerNames.Rule);
            }
            var address = ReadAddress(server, "address");
            var roles = new List<Role>();
            var roleNames = server.Strings("roles");
            if (roleNames is null || roleNames.Count == 0)
            {
                server.Problem(null, "roles", "a server needs at least one role", "add 'roles: [web]' (dns, lb, web, app or db)");
            }
            foreach (var roleName in roleNames ?? [])
            {
                if (!RoleNames.TryParse(roleName, out var role))
                {
                    server.Problem(server.Node("roles"), "roles", $"unknown role '{roleName}'", "use dns, lb, web, app or db");
                }
                else if (roles.Contains(role))
                {
                    server.Problem(server.Node("roles"), "roles", $"role '{roleName}' is listed twice", "list each role once");
                }
                else
                {
                    roles.Add(role);
                }
            }
            var db = server.Choice("db", DbRoles, "database part");
            var weight = server.Integer("weight", ServerSpec.MinWeight, ServerSpec.MaxWeight) ?? 1;
            var backup = server.Boolean("backup") ?? false;
            var maxConn = server.Integer("maxconn", 1, ServerSpec.MaxMaxConn) ?? 0;
            server.RejectUnknownKeys("address", "roles", "db", "weight", "backup", "maxconn");
            drafts.Add(new ServerDraft(name, address, roles, db, weight, backup, maxConn));
        }
        return drafts;
    }
}
