using System.Net;
using Foobar.Topology.Loading;

namespace Foobar.Topology.Tests.Loading;

public class TopologyLoaderTests
{
    [Fact]
    public void Load_DefaultTopology_IsTheFullDesign()
    {
        var topology = TopologyLoader.Load(TopologyText.RepositoryFile("foobar.yaml"));

        Assert.Equal("www.foobar.com", topology.SiteHost);
        Assert.Equal(["dns1", "lb1", "lb2", "web1", "web2", "app1", "app2", "db1", "db2"], topology.Servers.Select(s => s.Name));
        Assert.Equal(2, topology.ServersWith(Role.Lb).Count);
        Assert.Equal("db1", topology.DbPrimary?.Name);
        Assert.Equal(DbRole.Replica, topology.Find("db2")!.Db);
        Assert.Equal(IPAddress.Parse("127.10.0.1"), topology.Public.Address);
        Assert.Equal(LbMode.ActivePassive, topology.Lb.Mode);
        Assert.True(Directory.Exists(topology.WebRootPath), topology.WebRootPath);
        // Seed 002's missing HTTPS: on by default, ending at the load balancers.
        Assert.Equal((443, TlsTermination.LoadBalancer, true), (topology.Public.HttpsPort, topology.Public.Terminate, topology.Public.Redirect));
        Assert.Equal("https://www.foobar.com/", topology.Public.Url(topology.Domain));
    }

    [Fact]
    public void Parse_TierSettings_AreRead()
    {
        var topology = TopologyText.Parse(TopologyText.Valid + """

            lb: { port: 8081, mode: active-active, balance: leastconn, check_path: /ping, check_interval: 250ms, check_fast_interval: 100ms, check_timeout: 2s, check_rise: 3, check_fall: 4, check_status: [200, 204],
                  slow_start: 20s, max_queue: 50, queue_timeout: 3s, timeout_connect: 1s, timeout_server: 30s, timeout_client: 40s, max_body: 1MB, takeover_after: 300ms, workers: 2 }
            web: { port: 8082, root: public, proxy: [/api/, /auth/], access_log: json, static: [/assets/], workers: 1,
                   cache_control: { /assets/: "public, max-age=31536000, immutable", "*.html": no-cache } }
            app: { port: 9090 }
            admin: { port: 9999 }
            db: { semi_sync_timeout: 2s, max_replica_lag: 1500ms, failover_block: 2m, disk_reserve: 500MB }
            public: { address: 127.10.0.200, http: 8000 }
            """);

        Assert.Equal(8081, topology.Lb.Port);
        Assert.Equal(LbMode.ActiveActive, topology.Lb.Mode);
        Assert.Equal(BalanceAlgorithm.LeastConnections, topology.Lb.Balance);
        Assert.Equal("/ping", topology.Lb.CheckPath);
        Assert.Equal(TimeSpan.FromMilliseconds(250), topology.Lb.CheckInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(100), topology.Lb.CheckFastInterval);
        Assert.Equal(TimeSpan.FromSeconds(2), topology.Lb.CheckTimeout);
        Assert.Equal((3, 4), (topology.Lb.CheckRise, topology.Lb.CheckFall));
        Assert.Equal([200, 204], topology.Lb.CheckStatus);
        Assert.Equal(TimeSpan.FromSeconds(20), topology.Lb.SlowStart);
        Assert.Equal((50, TimeSpan.FromSeconds(3)), (topology.Lb.MaxQueue, topology.Lb.QueueTimeout));
        Assert.Equal((TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(40)), (topology.Lb.TimeoutConnect, topology.Lb.TimeoutServer, topology.Lb.TimeoutClient));
        Assert.Equal(1L << 20, topology.Lb.MaxBody);
        Assert.Equal(TimeSpan.FromMilliseconds(300), topology.Lb.TakeoverAfter);
        Assert.Equal((2, 1), (topology.Lb.Workers, topology.Web.Workers));
        Assert.Equal(["/api/", "/auth/"], topology.Web.Proxy);
        Assert.Equal(WebAccessLog.Json, topology.Web.AccessLog);
        Assert.Equal(["/assets/"], topology.Web.Static);
        Assert.Equal([new("/assets/", "public, max-age=31536000, immutable"), new("*.html", "no-cache")], topology.Web.CacheControl);
        Assert.Equal(Path.GetFullPath("/srv/foobar/public"), topology.WebRootPath);
        Assert.Equal(9090, topology.App.Port);
        Assert.Equal(9999, topology.Admin.Port);
        Assert.Equal(TimeSpan.FromSeconds(2), topology.Db.SemiSyncTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), topology.Db.MaxReplicaLag);
        Assert.Equal(TimeSpan.FromMinutes(2), topology.Db.FailoverBlock);
        Assert.Equal(500L << 20, topology.Db.DiskReserve);
        Assert.Equal(IPAddress.Parse("127.10.0.200"), topology.Public.Address);
        Assert.Equal("http://www.foobar.com:8000/", topology.Public.Url(topology.Domain));
    }

    [Fact]
    public void Parse_ServerWithSeveralRoles_HostsThemAll()
    {
        var topology = TopologyText.Parse("""
            network: { range: 127.10.0.0/24 }
            servers:
              lb1: { roles: [lb] }
              server1: { roles: [web, app, db] }
            """);

        Assert.Equal([Role.Web, Role.App, Role.Db], topology.Find("server1")!.Roles);
        Assert.Equal("server1", topology.DbPrimary?.Name);
    }

    [Theory]
    [InlineData(null, null, "lb1", null)]
    [InlineData(null, 1, "web1", 1)]
    [InlineData(null, 1, "lb1", null)]
    [InlineData(null, 1, "app1", null)]
    [InlineData(2, 3, "both", 3)]
    [InlineData(4, 3, "both", 4)]
    [InlineData(2, null, "both", 2)]
    public void WorkersOf_AServer_IsTheMostItsLbOrWebRoleAsksFor_NullForOnePerProcessor(int? lb, int? web, string server, int? expected)
    {
        // The lbs on port 81, so a server that is both does not take port 80 twice.
        var topology = TopologyText.Parse($$"""
            network: { range: 127.10.0.0/24 }
            servers:
              lb1: { roles: [lb] }
              both: { roles: [lb, web] }
              web1: { roles: [web] }
              app1: { roles: [app] }
            lb: { port: 81{{(lb is null ? "" : $", workers: {lb}")}} }
            web: { port: 80{{(web is null ? "" : $", workers: {web}")}} }
            """);

        Assert.Equal(expected, topology.WorkersOf(topology.Find(server)!));
    }

    [Fact]
    public void Parse_ServerWeightAndBackup_AreRead_WithDefaults()
    {
        var topology = TopologyText.Parse("""
            domain: foobar.com
            network: { range: 127.10.0.0/24 }
            servers:
              lb1: { roles: [lb] }
              web1: { roles: [web], weight: 3, maxconn: 200 }
              web2: { roles: [web], backup: true }
              app1: { roles: [app] }
            """);

        Assert.Equal((3, false), (topology.Servers.Single(s => s.Name == "web1").Weight, topology.Servers.Single(s => s.Name == "web1").Backup));
        Assert.Equal((1, true), (topology.Servers.Single(s => s.Name == "web2").Weight, topology.Servers.Single(s => s.Name == "web2").Backup));
        Assert.Equal(1, topology.Servers.Single(s => s.Name == "lb1").Weight);
        Assert.Equal(200, topology.Servers.Single(s => s.Name == "web1").MaxConn);
        Assert.Equal(0, topology.Servers.Single(s => s.Name == "web2").MaxConn);
    }

    [Theory]
    [InlineData("weight: 0", "servers.web1.weight", "not a whole number from 1 to 256")]
    [InlineData("weight: 300", "servers.web1.weight", "not a whole number from 1 to 256")]
    [InlineData("weight: heavy", "servers.web1.weight", "not a whole number from 1 to 256")]
    [InlineData("backup: yes", "servers.web1.backup", "not true or false")]
    [InlineData("maxconn: 0", "servers.web1.maxconn", "not a whole number from 1 to 1000000")]
    [InlineData("maxconn: -3", "servers.web1.maxconn", "not a whole number from 1 to 1000000")]
    [InlineData("maxconn: lots", "servers.web1.maxconn", "not a whole number from 1 to 1000000")]
    public void Parse_BadServerWeightOrBackup_NamesTheKey(string setting, string key, string expected)
    {
        var problem = TopologyText.SingleProblem($$"""
            domain: foobar.com
            network: { range: 127.10.0.0/24 }
            servers:
              web1: { roles: [web], {{setting}} }
              app1: { roles: [app] }
            """);

        Assert.Equal(key, problem.Key);
        Assert.Contains(expected, problem.Message);
    }

    [Fact]
    public void Parse_UnknownAccessLogFormat_NamesTheKeyAndTheChoices()
    {
        var problem = TopologyText.SingleProblem(TopologyText.Valid + "\nweb: { access_log: verbose }\n");

        Assert.Equal("web.access_log", problem.Key);
        Assert.Contains("verbose", problem.Message);
        Assert.Contains("combined", problem.Fix);
    }

    [Theory]
    [InlineData("static: [assets/]", "web.static", "does not start with '/'")]
    [InlineData("cache_control: { assets: no-cache }", "web.cache_control.assets", "neither a path prefix nor a suffix")]
    [InlineData("cache_control: { \"*.\": no-cache }", "web.cache_control.*.", "neither a path prefix nor a suffix")]
    [InlineData("cache_control: { /a/: [no-cache] }", "web.cache_control./a/", "one line of text")]
    [InlineData("cache_control: { /a/: \"no-cache\\r\\nSet-Cookie: x=1\" }", "web.cache_control./a/", "one line of text")]
    [InlineData("cache_control: [/a/]", "web.cache_control", "must be a mapping")]
    public void Parse_BadStaticOrCacheControl_NamesTheKey(string setting, string key, string expected)
    {
        var problem = TopologyText.SingleProblem(TopologyText.Valid + $"\nweb: {{ {setting} }}\n");

        Assert.Equal(key, problem.Key);
        Assert.Contains(expected, problem.Message);
    }

    [Fact]
    public void Parse_Https_IsReadWithItsDefaults()
    {
        var plain = TopologyText.Parse(TopologyText.Valid);
        var https = TopologyText.Parse(TopologyText.Valid + "\npublic: { https: 443 }\n");
        var own = TopologyText.Parse(TopologyText.Valid + "\npublic: { https: 8443, certificate: certs/site.crt, key: certs/site.key, redirect: false, hsts: off }\n");

        Assert.Null(plain.Public.HttpsPort);
        Assert.Equal("http://www.foobar.com/", plain.Public.Url("foobar.com"));
        Assert.Equal((443, true, "max-age=31536000"), (https.Public.HttpsPort, https.Public.Redirect, https.Public.Hsts));
        Assert.Equal("https://www.foobar.com/", https.Public.Url("foobar.com"));
        Assert.Equal((8443, "certs/site.crt", "certs/site.key", false, (string?)null), (own.Public.HttpsPort, own.Public.Certificate, own.Public.Key, own.Public.Redirect, own.Public.Hsts));
        Assert.Equal("https://www.foobar.com:8443/", own.Public.Url("foobar.com"));
        Assert.Equal(TlsTermination.LoadBalancer, https.Public.Terminate);
        Assert.False(https.Web.Tls);
        Assert.False(https.App.Tls);
    }

    [Fact]
    public void Parse_AppCommand_IsKeptAsWritten_AndAbsentMeansTheBuiltInApplication()
    {
        var own = TopologyText.Parse(TopologyText.Valid + "\napp: { port: 5000, command: \"python3 app.py --workers 2\" }\n");
        var builtIn = TopologyText.Parse(TopologyText.Valid);

        Assert.Equal(("python3 app.py --workers 2", 5000), (own.App.Command, own.App.Port));
        Assert.Null(builtIn.App.Command);
    }

    [Theory]
    [InlineData("app: { command: \"  \" }", "app.command", "empty")]
    [InlineData("app: { command: [python3, app.py] }", "app.command", "single non-empty value")]
    public void Parse_BadAppCommand_NamesTheKey(string setting, string key, string expected)
    {
        var problem = TopologyText.SingleProblem(TopologyText.Valid + $"\n{setting}\n");

        Assert.Equal(key, problem.Key);
        Assert.Contains(expected, problem.Message);
    }

    [Fact]
    public void Parse_TlsOnTheHopsBehind_IsReadPerTier()
    {
        var topology = TopologyText.Parse(TopologyText.Valid + "\npublic: { https: 443, terminate: web }\nweb: { tls: true }\napp: { port: 8443, tls: true }\n");

        Assert.Equal(TlsTermination.Web, topology.Public.Terminate);
        Assert.True(topology.Web.Tls);
        Assert.Equal((8443, true), (topology.App.Port, topology.App.Tls));
    }

    [Theory]
    [InlineData("public: { http: 80, https: 80 }", "public.https", "the same port as http")]
    [InlineData("public: { https: 443, certificate: site.crt }", "public.certificate", "needs its key")]
    [InlineData("public: { https: 443, key: site.key }", "public.key", "needs its key")]
    [InlineData("public: { hsts: off }", "public.https", "without an https port")]
    [InlineData("public: { https: 443, hsts: \"max-age=1\\r\\nX: y\" }", "public.hsts", "must be one line")]
    [InlineData("public: { https: 70000 }", "public.https", "not a TCP port")]
    [InlineData("public: { terminate: web }", "public.https", "without an https port")]
    [InlineData("public: { https: 443, terminate: app }", "public.terminate", "'app'")]
    [InlineData("web: { tls: maybe }", "web.tls", "maybe")]
    [InlineData("app: { tls: true, colour: x }", "app.colour", "unknown key")]
    public void Parse_BadHttps_NamesTheKey(string setting, string key, string expected)
    {
        var problem = TopologyText.SingleProblem(TopologyText.Valid + $"\n{setting}\n");

        Assert.Equal(key, problem.Key);
        Assert.Contains(expected, problem.Message);
    }

    [Fact]
    public void Parse_UnparseableYaml_ReportsLineAndSyntaxFix()
    {
        var problem = TopologyText.SingleProblem("network:\n  range: 127.10.0.0/24\nservers:\n  lb1: { roles: [lb]\n  web1: x\n");

        Assert.Contains("not valid YAML", problem.Message);
        Assert.True(problem.Line >= 4, problem.ToString());
        Assert.StartsWith("test.yaml:", problem.ToString());
    }

    [Fact]
    public void Parse_DuplicateKey_ReportsItsLine()
    {
        var problem = TopologyText.SingleProblem(TopologyText.Valid + "\n  web1: { roles: [web] }\n");

        Assert.Contains("Duplicate key", problem.Message);
        Assert.Equal(7, problem.Line);
    }

    [Fact]
    public void Parse_UnknownRole_NamesTheRoleTheKeyAndTheChoices()
    {
        var problem = TopologyText.SingleProblem(TopologyText.Valid.Replace("roles: [web]", "roles: [webb]"));

        Assert.Equal("servers.web1.roles", problem.Key);
        Assert.Contains("unknown role 'webb'", problem.Message);
        Assert.Contains("dns, lb, web, app or db", problem.Fix);
        Assert.Equal(5, problem.Line);
    }

    [Fact]
    public void Parse_UnknownKey_IsReportedNotIgnored()
    {
        var problem = TopologyText.SingleProblem(TopologyText.Valid.Replace("{ roles: [web] }", "{ roles: [web], adress: 127.10.0.9 }"));

        Assert.Equal("servers.web1.adress", problem.Key);
        Assert.Contains("address", problem.Fix);
    }

    [Fact]
    public void Parse_SeveralMistakes_AreAllReportedInLineOrder()
    {
        var e = Assert.Throws<TopologyException>(() => TopologyText.Parse("""
            network: { range: 127.10.0.0/24 }
            lb: { port: 99999 }
            servers:
              lb1: { roles: [lb, cache] }
              Web1: { roles: [web] }
            """));

        Assert.Equal(["lb.port", "servers.lb1.roles", "servers.Web1"], e.Problems.Select(p => p.Key));
        Assert.Equal([2, 4, 5], e.Problems.Select(p => p.Line));
    }

    [Theory]
    [InlineData("127.10.0.0", "CIDR")]
    [InlineData("127.10.0.1/24", "host bits")]
    [InlineData("127.10.0.0/33", "prefix length")]
    [InlineData("banana/24", "not an IPv4 address")]
    public void Parse_BadRange_IsExplained(string range, string expected)
    {
        var problem = TopologyText.SingleProblem(TopologyText.Valid.Replace("127.10.0.0/24", range));

        Assert.Equal("network.range", problem.Key);
        Assert.Contains(expected, problem.Message);
        Assert.Equal(2, problem.Line);
    }

    [Fact]
    public void Parse_MissingRange_SaysWhatToAdd()
    {
        var problem = TopologyText.SingleProblem(TopologyText.Valid.Replace("network: { range: 127.10.0.0/24 }", ""));

        Assert.Equal("network.range", problem.Key);
        Assert.Contains("network: { range:", problem.Fix);
    }

    [Theory]
    [InlineData("lb: { check_interval: soon }", "lb.check_interval", "duration")]
    [InlineData("lb: { mode: hot-cold }", "lb.mode", "unknown mode")]
    [InlineData("lb: { check_path: healthz }", "lb.check_path", "absolute URL path")]
    [InlineData("web: { proxy: [api/] }", "web.proxy", "does not start with '/'")]
    [InlineData("app: { port: http }", "app.port", "not a TCP port")]
    [InlineData("lb: { balance: fastest }", "lb.balance", "unknown balance algorithm")]
    [InlineData("lb: { check_rise: 0 }", "lb.check_rise", "not a whole number from 1 to 100")]
    [InlineData("lb: { check_fall: many }", "lb.check_fall", "not a whole number from 1 to 100")]
    [InlineData("lb: { check_status: [200, ok] }", "lb.check_status", "'ok' is not an HTTP status")]
    [InlineData("lb: { check_status: [999] }", "lb.check_status", "'999' is not an HTTP status")]
    [InlineData("lb: { check_timeout: 0s }", "lb.check_timeout", "not a duration")]
    [InlineData("db: { disk_reserve: lots }", "db.disk_reserve", "not a size")]
    [InlineData("lb: { max_body: 0 }", "lb.max_body", "not a size")]
    [InlineData("lb: { max_body: big }", "lb.max_body", "not a size")]
    [InlineData("lb: { max_queue: -1 }", "lb.max_queue", "not a whole number from 0 to 1000000")]
    [InlineData("lb: { slow_start: 0s }", "lb.slow_start", "not a duration")]
    [InlineData("lb: { workers: 0 }", "lb.workers", "not a whole number from 1 to 256")]
    [InlineData("web: { workers: auto }", "web.workers", "not a whole number from 1 to 256")]
    [InlineData("web: { workers: 1000 }", "web.workers", "not a whole number from 1 to 256")]
    [InlineData("lb: { queue_timeout: forever }", "lb.queue_timeout", "not a duration")]
    [InlineData("lb: { timeout_server: -1s }", "lb.timeout_server", "not a duration")]
    [InlineData("lb: { timeout_client: 0ms }", "lb.timeout_client", "not a duration")]
    [InlineData("lb: { timeout_connect: 2 }", "lb.timeout_connect", "not a duration")]
    [InlineData("lb: { takeover_after: never }", "lb.takeover_after", "not a duration")]
    [InlineData("db: { disk_reserve: -5MB }", "db.disk_reserve", "not a size")]
    [InlineData("app: { write_limit: lots }", "app.write_limit", "not a rate")]
    [InlineData("app: { write_limit: 0/min }", "app.write_limit", "not a rate")]
    [InlineData("app: { write_limit: 20/week }", "app.write_limit", "not a rate")]
    [InlineData("app: { write_limit: -3/s }", "app.write_limit", "not a rate")]
    [InlineData("db: { disk_reserve: 0 }", "db.disk_reserve", "not a size")]
    [InlineData("db: { disk_reserve: 99999999999t }", "db.disk_reserve", "not a size")]
    [InlineData("public: { address: 127.10.0 }", "public.address", "not an IPv4 address")]
    [InlineData("web: [80]", "web", "must be a mapping")]
    public void Parse_BadSetting_NamesTheKey(string yaml, string key, string expected)
    {
        var problem = TopologyText.SingleProblem(TopologyText.Valid + "\n" + yaml + "\n");

        Assert.Equal(key, problem.Key);
        Assert.Contains(expected, problem.Message);
        Assert.Equal(7, problem.Line);
    }

    [Fact]
    public void Load_MissingFile_SaysWhichFile()
    {
        var e = Assert.Throws<TopologyException>(() => TopologyLoader.Load("/nonexistent/foobar.yaml"));

        Assert.Contains("/nonexistent/foobar.yaml", e.Message);
        Assert.Contains("cannot read", e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("- just\n- a list\n")]
    public void Parse_EmptyOrNotAMapping_IsAProblem(string yaml)
    {
        var problem = TopologyText.SingleProblem(yaml);

        Assert.Contains("empty or is not a mapping", problem.Message);
    }

    [Theory]
    [InlineData("", 20, 60)]
    [InlineData("app: { write_limit: 5/s }", 5, 1)]
    [InlineData("app: { write_limit: 100 / h }", 100, 3600)]
    [InlineData("app: { write_limit: 3/MIN }", 3, 60)]
    public void Parse_WriteLimit_CountPerPeriod(string yaml, int count, int seconds)
    {
        var topology = TopologyText.Parse(TopologyText.Valid + "\n" + yaml + "\n");

        Assert.Equal(new RateLimit(count, TimeSpan.FromSeconds(seconds)), topology.App.WriteLimit);
    }

    [Fact]
    public void Parse_WriteLimitOff_NoLimit()
    {
        var topology = TopologyText.Parse(TopologyText.Valid + "\napp: { write_limit: off }\n");

        Assert.Null(topology.App.WriteLimit);
    }
}
