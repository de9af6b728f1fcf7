using System.Diagnostics;
using System.Net;
using Foobar.Testing;

namespace Foobar.EndToEnd.Tests;

/// <summary>The whole default topology up: the site, round robin, and failures of single servers.</summary>
public partial class SiteTests(RunningTopology topology) : IClassFixture<RunningTopology>
{
    [Fact]
    public async Task Site_ThroughPublicAddress_AnswersWithTheFullPath()
    {
        using var response = await topology.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("www.foobar.com", await response.Content.ReadAsStringAsync());
        Assert.Empty(response.Headers.Server);
        var path = await topology.PathOfAsync("/");
        Assert.Equal(4, path.Length);
        Assert.Matches("^lb[12]$", path[0]);
        Assert.Matches("^web[12]$", path[1]);
        Assert.Matches("^app[12]$", path[2]);
        Assert.Matches("^db[12]$", path[3]);
    }

    [Fact]
    public async Task Readyz_OfTheAppServers_NamesTheDbServersTheyReach()
    {
        using var response = await topology.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Matches("^ready: reaches db[12](, db[12])?\n$", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Http2Client_WithPriorKnowledge_IsServedThroughEveryTier()
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{topology.PublicAddress}/api/entries")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.Host = "www.foobar.com";

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Matches("^lb[12], web[12], app[12]", string.Join(",", response.Headers.GetValues("X-Served-By")));
    }

    [Fact]
    public async Task Dns_AnswersThePublicAddressForTheSite_AndEachServersName()
    {
        var site = await DnsQueries.AskAsync(topology.Dns, "www.foobar.com");
        var apex = await DnsQueries.AskAsync(topology.Dns, "foobar.com");
        var db2 = await DnsQueries.AskAsync(topology.Dns, "db2.foobar.com");

        Assert.Equal([topology.PublicAddress], site.Addresses);
        Assert.Equal(5u, site.Ttl);
        Assert.Equal([topology.PublicAddress], apex.Addresses);
        Assert.Equal([topology.AddressOf("db2")], db2.Addresses);
    }

    [Fact]
    public async Task StaticFile_IsServedByTheWebTierWithoutTheApp()
    {
        using var response = await topology.GetAsync("/assets/foobar.css");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/css", response.Content.Headers.ContentType?.MediaType);
        Assert.Matches("^lb[12], web[12]$", string.Join(",", response.Headers.GetValues("X-Served-By")));
    }

    [Fact]
    public async Task Requests_AreNotWrittenToTheServerLogs()
    {
        for (var i = 0; i < 10; i++)
        {
            using var response = await topology.GetAsync("/assets/foobar.css");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Two synchronous log lines per request cut a web server's throughput tenfold.
        foreach (var log in Directory.GetFiles(Path.Combine(topology.StateDirectory, "logs")))
        {
            Assert.DoesNotContain("Request starting", File.ReadAllText(log));
        }
    }

    [Fact]
    public async Task RoundRobin_ConsecutiveRequests_AlternateWebAndAppServers()
    {
        await WaitAllReadyAsync();
        var paths = new List<string[]>();
        for (var i = 0; i < 8; i++)
        {
            paths.Add(await topology.PathOfAsync("/"));
        }

        Assert.All(paths, p => Assert.Equal(4, p.Length));
        for (var i = 1; i < paths.Count; i++)
        {
            Assert.NotEqual(paths[i - 1][1], paths[i][1]);
        }
        Assert.Equal(["app1", "app2"], paths.Select(p => p[2]).Distinct().Order());
    }

    [Fact]
    public async Task Drain_Web1_NewRequestsGoToWeb2OnEveryLoadBalancer_UntilReady()
    {
        await WaitAllReadyAsync();

        var drain = await topology.CliAsync("lb", "drain", "web1");
        Assert.True(drain.ExitCode == 0, drain.Output);
        Assert.Contains("web1 draining: no new requests, those in flight finish on lb1, lb2", drain.Output);
        try
        {
            for (var i = 0; i < 10; i++)
            {
                Assert.Equal("web2", (await topology.PathOfAsync("/"))[1]);
            }
            Assert.Contains("\"web1\"", File.ReadAllText(Path.Combine(topology.StateDirectory, "lb-drained.json")));
        }
        finally
        {
            var ready = await topology.CliAsync("lb", "ready", "web1");
            Assert.True(ready.ExitCode == 0, ready.Output);
            Assert.Contains("web1 ready: back in rotation on lb1, lb2", ready.Output);
        }
        var servedBy = new HashSet<string>();
        for (var i = 0; i < 6; i++)
        {
            servedBy.Add((await topology.PathOfAsync("/"))[1]);
        }
        Assert.Contains("web1", servedBy);

        var notWeb = await topology.CliAsync("lb", "drain", "app1");
        Assert.Equal(1, notWeb.ExitCode);
        Assert.Contains("no web server 'app1'; web servers: web1, web2", notWeb.Output);
    }

    [Fact]
    public async Task ActiveLoadBalancer_ServesPrometheusMetricsAndAStatsPageOnItsAdminPort()
    {
        await WaitAllReadyAsync();
        var status = await topology.StatusAsync();
        var active = status.Public.HeldBy ?? throw new InvalidOperationException("no load balancer holds the public address");
        var admin = $"http://{status.Servers.Single(s => s.Name == active).Address}:9000";
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(active, (await topology.PathOfAsync("/"))[0]);
        }

        using var metrics = await topology.Http.GetAsync($"{admin}/metrics");
        var text = await metrics.Content.ReadAsStringAsync();
        Assert.Equal("text/plain", metrics.Content.Headers.ContentType?.MediaType);
        Assert.Matches($"foobar_lb_backend_requests_total{{lb=\"{active}\",backend=\"web1\"}} [1-9]", text);
        Assert.Matches($"foobar_lb_backend_responses_total{{lb=\"{active}\",backend=\"web2\",code=\"2xx\"}} [1-9]", text);
        Assert.Contains($"foobar_lb_backend_up{{lb=\"{active}\",backend=\"web1\"}} 1", text);
        Assert.Matches("\nprocess_cpu_seconds_total [0-9.]+\n", text);

        // Every server has the process's own metrics; only load balancers those of web servers.
        var web1 = await topology.Http.GetStringAsync($"http://{status.Servers.Single(s => s.Name == "web1").Address}:9000/metrics");
        Assert.Matches(@"\ndotnet_gc_collections_total\{generation=""0""\} [0-9]+\n", web1);
        Assert.DoesNotContain("foobar_lb_", web1);

        var stats = await topology.Http.GetStringAsync($"{admin}/stats");
        Assert.Contains("<tr class=\"up\"><td>web1</td><td>up</td>", stats);
        Assert.Contains("passed", stats);
    }

    [Fact]
    public async Task Kill_Web1_SiteKeepsAnsweringAndStartBringsItBack()
    {
        await WaitAllReadyAsync();

        var kill = await topology.CliAsync("kill", "web1");
        Assert.True(kill.ExitCode == 0, kill.Output);
        var status = await topology.StatusAsync();
        Assert.Equal("killed", status.Servers.Single(s => s.Name == "web1").State);
        for (var i = 0; i < 20; i++)
        {
            var path = await topology.PathOfAsync("/");
            Assert.InRange(path.Length, 3, 4);
            Assert.Equal("web2", path[1]);
        }

        var start = await topology.CliAsync("start", "web1");
        Assert.True(start.ExitCode == 0, start.Output);
        await Poll.UntilAsync(() => topology.PathOfAsync("/"), p => p.Length >= 3 && p[1] == "web1", TimeSpan.FromSeconds(15), "web1 back in rotation");
    }

    [Fact]
    public async Task Crash_ServerKilledFromOutside_IsRestartedAndCounted()
    {
        var before = (await WaitAllReadyAsync()).Servers.Single(s => s.Name == "app2");

        using (var victim = Process.GetProcessById(before.Pid!.Value))
        {
            victim.Kill();
        }

        var after = await Poll.UntilAsync(topology.StatusAsync,
            r => r.Servers.Single(s => s.Name == "app2") is { Ready: true } s && s.Pid != before.Pid,
            TimeSpan.FromSeconds(20), "app2 restarted");
        var app2 = after.Servers.Single(s => s.Name == "app2");
        Assert.Equal(before.Restarts + 1, app2.Restarts);
        Assert.Contains(after.Events, e => e.Server == "app2" && e.Message.Contains("exited with code", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Hang_ServerFrozenWithSigstop_IsKilledAndRestarted()
    {
        var before = (await WaitAllReadyAsync()).Servers.Single(s => s.Name == "app1");

        Signal.Send(before.Pid!.Value, Signal.Stop);

        var after = await Poll.UntilAsync(topology.StatusAsync,
            r => r.Servers.Single(s => s.Name == "app1") is { Ready: true } s && s.Pid != before.Pid,
            TimeSpan.FromSeconds(40), "frozen app1 replaced");
        Assert.Contains(after.Events, e => e.Server == "app1" && e.Message.Contains("has not answered its health check", StringComparison.Ordinal));
        Assert.False(ProcessState.IsRunning(before.Pid!.Value));
    }

    [Fact]
    public async Task Kill_ActiveLoadBalancer_TheOtherTakesThePublicAddress()
    {
        var holder = (await WaitAllReadyAsync()).Public.HeldBy!;
        var other = holder == "lb1" ? "lb2" : "lb1";

        Assert.Equal(0, (await topology.CliAsync("kill", holder)).ExitCode);
        try
        {
            var path = await Poll.UntilAsync(() => topology.PathOfAsync("/"), p => p.Length >= 3, TimeSpan.FromSeconds(10), "site answering again");
            Assert.Equal(other, path[0]);
            await Poll.UntilAsync(topology.StatusAsync, r => r.Public.HeldBy == other, TimeSpan.FromSeconds(10), $"{other} reported as holder");
        }
        finally
        {
            Assert.Equal(0, (await topology.CliAsync("start", holder)).ExitCode);
        }

        // The old holder comes back as the standby: still one owner.
        var status = await topology.StatusAsync();
        Assert.Equal(other, status.Public.HeldBy);
        Assert.Contains(status.Servers.Single(s => s.Name == holder).RoleHealth, r => r.State == "standby");
    }

    [Fact]
    public async Task Hang_ActiveLoadBalancer_TheStandbyFencesItAndTakesThePublicAddress()
    {
        var before = await WaitAllReadyAsync();
        var holder = before.Public.HeldBy!;
        var other = holder == "lb1" ? "lb2" : "lb1";
        var frozen = before.Servers.Single(s => s.Name == holder).Pid!.Value;

        Signal.Send(frozen, Signal.Stop);
        var elapsed = await RawHttp.TimeAsync(() =>
            Poll.UntilAsync(() => topology.PathOfAsync("/"), p => p.Length >= 3 && p[0] == other, TimeSpan.FromSeconds(20), $"{other} answering at the public address"));

        // The control plane would kill the frozen holder only after 10 s without a health check; the standby's heartbeats do it in about half a second.
        Assert.InRange(elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.False(ProcessState.IsRunning(frozen));
        var after = await Poll.UntilAsync(topology.StatusAsync,
            r => r.Servers.Single(s => s.Name == holder) is { Ready: true } s && s.Pid != frozen, TimeSpan.FromSeconds(30), $"{holder} restarted");
        Assert.Equal(other, after.Public.HeldBy);
        Assert.Contains(after.Servers.Single(s => s.Name == holder).RoleHealth, r => r.State == "standby");
    }

    [Fact]
    public async Task Status_Json_CarriesEveryServerAndThePublicEndpoint()
    {
        var status = await WaitAllReadyAsync();

        Assert.Equal(["dns1", "lb1", "lb2", "web1", "web2", "app1", "app2", "db1", "db2"], status.Servers.Select(s => s.Name));
        Assert.Equal("http://www.foobar.com/", status.Public.Url);
        Assert.Equal($"http://{topology.PublicAddress}/", status.Public.DirectUrl);
        Assert.Contains($"--resolve www.foobar.com:80:{topology.PublicAddress}", status.Public.Curl);
        Assert.All(status.Servers, s => Assert.True(s.Pid > 0));
        var db1 = status.Servers.Single(s => s.Name == "db1").RoleHealth.Single();
        Assert.Equal("ready", db1.State);
        Assert.StartsWith("mariadbd pid ", db1.Detail);
        var dns1 = status.Servers.Single(s => s.Name == "dns1").RoleHealth.Single();
        Assert.Equal("ready", dns1.State);
        Assert.StartsWith("answers for foobar.com on ", dns1.Detail);
    }

    [Fact]
    public async Task Servers_RunWithTheirGen0Budget()
    {
        var lb1 = (await WaitAllReadyAsync()).Servers.Single(s => s.Name == "lb1").Pid!.Value;

        var environment = (await File.ReadAllTextAsync($"/proc/{lb1}/environ")).Split('\0');

        Assert.Contains("DOTNET_GCgen0size=0x400000", environment);
    }

    [Fact]
    public async Task Up_WhenAlreadyRunning_IsAClearError()
    {
        var again = await FoobarCli.RunAsync("up", "--detach", "-t", topology.TopologyFile, "--state", topology.StateDirectory);

        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already running", again.Stderr);
    }

    [Fact]
    public async Task Kill_UnknownServer_NamesTheServersThatExist()
    {
        var result = await topology.CliAsync("kill", "web9");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("no server 'web9'", result.Stderr);
        Assert.Contains("web1", result.Stderr);
    }

    private Task<Foobar.ControlPlane.Status.StatusReport> WaitAllReadyAsync() =>
        Poll.UntilAsync(topology.StatusAsync, r => r.Ready, TimeSpan.FromSeconds(30), "every server ready");
}
