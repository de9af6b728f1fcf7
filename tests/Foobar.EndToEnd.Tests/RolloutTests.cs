using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;

namespace Foobar.EndToEnd.Tests;

/// <summary>
/// Taking servers out of rotation and back: <c>foobar web drain|ready</c>, <c>foobar rollout
/// web|app</c> and <c>foobar restart</c> under continuous reads and writes through the public
/// address — no request may fail.
/// </summary>
public sealed class RolloutTests(RunningTopology topology) : IClassFixture<RunningTopology>
{
    [Fact]
    public async Task RolloutOfAppAndWebAndARestart_UnderReadsAndWrites_FailNoRequest_AndRestartEveryServer()
    {
        var before = (await topology.StatusAsync()).Servers.ToDictionary(s => s.Name, s => s.Pid);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var ok = 0;
        var failures = new ConcurrentQueue<string>();
        var firstFailure = long.MaxValue;
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 4).Select(c => Task.Run(async () =>
        {
            using var browser = new Guestbook(topology);
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var (method, path) = (i % 3) switch { 0 => ("GET", "/api/entries"), 1 => ("POST", "/api/entries"), _ => ("GET", "/") };
                try
                {
                    using var response = method == "POST" ? await browser.SignAsync($"client {c}", $"write {i}") : await browser.SendAsync(HttpMethod.Get, path);
                    if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created)
                    {
                        Interlocked.Increment(ref ok);
                    }
                    else
                    {
                        Failed(ref firstFailure);
                        failures.Enqueue($"{clock.Elapsed.TotalSeconds:0.00} s {method} {path}: {(int)response.StatusCode} via {string.Join(",", response.Headers.TryGetValues("X-Served-By", out var by) ? by : [])}: {await ReasonAsync(response)}");
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    Failed(ref firstFailure);
                    failures.Enqueue($"{clock.Elapsed.TotalSeconds:0.00} s {method} {path}: {e.Message}");
                }
            }
        })).ToList();
        await Poll.UntilAsync(() => Task.FromResult(ok), n => n >= 100, TimeSpan.FromSeconds(60), "100 requests answered before the rollout");

        var steps = new List<string>();
        var app = await topology.CliAsync("rollout", "app");
        steps.Add($"{clock.Elapsed.TotalSeconds:0.00} s rollout app ended: {app.Output}");
        var web = await topology.CliAsync("rollout", "web");
        steps.Add($"{clock.Elapsed.TotalSeconds:0.00} s rollout web ended: {web.Output}");
        var restart = await topology.CliAsync("restart", "app1");
        steps.Add($"{clock.Elapsed.TotalSeconds:0.00} s restart app1 ended: {restart.Output}");
        var during = ok;
        await Poll.UntilAsync(() => Task.FromResult(ok), n => n >= during + 100, TimeSpan.FromSeconds(30), "100 more requests answered after");
        await stop.CancelAsync();
        await Task.WhenAll(clients);
        var after = (await topology.StatusAsync()).Servers.ToDictionary(s => s.Name, s => s.Pid);

        var crashes = topology.Crashes();
        Assert.True(crashes == "", $"a server died:\n{crashes}");
        Assert.True(failures.IsEmpty, $"{failures.Count} of {ok + failures.Count} requests failed: {string.Join("; ", failures.Take(10))}\n{string.Join("\n", steps)}\n{AroundFirst(firstFailure)}");
        Assert.True(app.ExitCode == 0, app.Output);
        Assert.Matches(@"app1: out of rotation in [0-9.]+ s, restarted \(pid [0-9]+ → [0-9]+\), ready after [0-9.]+ s, back in rotation after", app.Output);
        Assert.Contains("app2: out of rotation", app.Output);
        Assert.True(web.ExitCode == 0, web.Output);
        Assert.Contains("web1: out of rotation", web.Output);
        Assert.Contains("web2: out of rotation", web.Output);
        Assert.True(restart.ExitCode == 0, restart.Output);
        Assert.Contains("app1 out of rotation on web1, web2", restart.Output);
        foreach (var server in new[] { "web1", "web2", "app1", "app2" })
        {
            Assert.NotEqual(before[server], after[server]);
        }
        Assert.Equal(before["lb1"], after["lb1"]);
        Assert.Equal(before["db1"], after["db1"]);
    }

    [Theory]
    [InlineData("app2")]
    [InlineData("web2")]
    public async Task AServerSentSigtermByHand_LeavesRotationFirst_NoReadOrWriteFails(string server)
    {
        // No control plane drain here: the server's own lame duck (its /readyz fails until the web
        // servers stop sending it requests), then its graceful stop.
        var ok = 0;
        var failures = new ConcurrentQueue<string>();
        var firstFailure = long.MaxValue;
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 4).Select(c => Task.Run(async () =>
        {
            using var browser = new Guestbook(topology);
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                try
                {
                    using var response = i % 2 == 0 ? await browser.SendAsync(HttpMethod.Get, "/") : await browser.SignAsync($"client {c}", $"write {i}");
                    if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created)
                    {
                        Interlocked.Increment(ref ok);
                    }
                    else
                    {
                        Failed(ref firstFailure);
                        failures.Enqueue($"{(int)response.StatusCode} via {string.Join(",", response.Headers.TryGetValues("X-Served-By", out var by) ? by : [])}: {await ReasonAsync(response)}");
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    Failed(ref firstFailure);
                    failures.Enqueue(e.Message);
                }
            }
        })).ToList();
        await Poll.UntilAsync(() => Task.FromResult(ok), n => n >= 50, TimeSpan.FromSeconds(60), "50 pages before the signal");
        var victim = Foobar.Server.Processes.ProcessIdentity.Parse(await File.ReadAllTextAsync(Path.Combine(topology.StateDirectory, "pids", $"{server}.pid")))!;

        Assert.True(Foobar.Server.Processes.Signals.Send(victim, Foobar.Server.Processes.Signals.Terminate));
        await Poll.UntilAsync(() => Task.FromResult(victim.IsAlive), alive => !alive, TimeSpan.FromSeconds(15), $"{server} gone");
        var at = ok;
        await Poll.UntilAsync(() => Task.FromResult(ok), n => n >= at + 50, TimeSpan.FromSeconds(30), "50 pages after");
        await stop.CancelAsync();
        await Task.WhenAll(clients);

        var crashes = topology.Crashes();
        Assert.True(crashes == "", $"a server died:\n{crashes}");
        Assert.True(failures.IsEmpty, $"{failures.Count} of {ok + failures.Count} requests failed: {string.Join("; ", failures.Take(10))}\n{AroundFirst(firstFailure)}");
        var log = await File.ReadAllTextAsync(Path.Combine(topology.StateDirectory, "logs", $"{server}.log"));
        Assert.Contains("Stopping: the check answers 503", log);
        Assert.Matches(@"Out of rotation after [0-9.]+ s; stopping", log);
    }

    [Fact]
    public async Task WebDrain_SendsNoRequestToThatAppServer_UntilReady()
    {
        using var browser = new Guestbook(topology);
        (await Poll.UntilAsync(() => browser.SendAsync(HttpMethod.Get, "/api/hello"), r => r.StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(60), "the site")).Dispose();
        // An earlier test of this class may have restarted app2 a moment ago: a web server takes it
        // back after its checks, and draining app1 before then leaves that web server none (503).
        // (`foobar web drain` is the operator's word and does not wait, unlike stop and rollout.)
        await EveryWebServerHasBothAppServersAsync();

        var drain = await topology.CliAsync("web", "drain", "app1");
        var drained = await AppServersAsync(browser, 12);
        var ready = await topology.CliAsync("web", "ready", "app1");
        var back = await Poll.UntilAsync(() => AppServersAsync(browser, 12), s => s.Contains("app1"), TimeSpan.FromSeconds(10), "app1 in rotation again");
        var unknown = await topology.CliAsync("web", "drain", "web1");

        Assert.True(drain.ExitCode == 0, drain.Output);
        Assert.Contains("app1 draining", drain.Output);
        Assert.Equal(["app2"], drained);
        Assert.True(ready.ExitCode == 0, ready.Output);
        Assert.Equal(["app1", "app2"], back);
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("no app server 'web1'; app servers: app1, app2", unknown.Output);
    }

    [Theory]
    [InlineData("lb", "restart the standby load balancer")]
    [InlineData("db", "foobar db switchover")]
    [InlineData("cache", "")]
    public async Task Rollout_OfATierItDoesNotCover_SaysWhatToDo(string tier, string expected)
    {
        var result = await topology.CliAsync("rollout", tier);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(expected, result.Output);
    }

    private async Task EveryWebServerHasBothAppServersAsync()
    {
        using var client = new HttpClient();
        foreach (var web in new[] { "web1", "web2" })
        {
            var uri = $"http://{topology.AddressOf(web)}:9000{Foobar.Server.Admin.AdminPaths.ServersBehind("web")}";
            await Poll.UntilAsync(
                async () =>
                {
                    try
                    {
                        var servers = await client.GetFromJsonAsync<List<Foobar.Server.Admin.BackendStatus>>(uri) ?? [];
                        return string.Join(", ", servers.Select(b => $"{b.Name} {b.State}{(b.Draining ? " draining" : "")}"));
                    }
                    catch (HttpRequestException e)
                    {
                        return e.Message;
                    }
                },
                seen => seen == "app1 up, app2 up", TimeSpan.FromSeconds(30), $"app1 and app2 up on {web}");
        }
    }

    private static async Task<List<string>> AppServersAsync(Guestbook browser, int requests)
    {
        var seen = new SortedSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < requests; i++)
        {
            using var response = await browser.SendAsync(HttpMethod.Get, "/api/hello");
            seen.Add(string.Join(",", response.Headers.GetValues("X-Served-By")).Split(',', StringSplitOptions.TrimEntries)[2]);
        }
        return [.. seen];
    }

    /// <summary>Notes the time of a test's first failed request (its servers' logs are read around it).</summary>
    private static void Failed(ref long firstTicks)
    {
        var now = DateTime.Now.Ticks;
        var seen = Interlocked.Read(ref firstTicks);
        while (now < seen && Interlocked.CompareExchange(ref firstTicks, now, seen) != seen)
        {
            seen = Interlocked.Read(ref firstTicks);
        }
    }

    /// <summary>What the servers on the way logged within two seconds of the first failure; empty when nothing failed.</summary>
    private string AroundFirst(long firstTicks) =>
        firstTicks == long.MaxValue ? "" : topology.LogsAround(new DateTime(firstTicks), TimeSpan.FromSeconds(2), 20, "lb1", "lb2", "web1", "web2", "app1", "app2");

    /// <summary>
    /// Why a server refused a request: the body when it is the forwarders' plain-text reason; the
    /// site's error pages carry none (the reason is in the logs, <see cref="AroundFirst"/>).
    /// </summary>
    private static async Task<string> ReasonAsync(HttpResponseMessage response)
    {
        if (response.Content.Headers.ContentType?.MediaType != "text/plain")
        {
            return response.ReasonPhrase ?? "";
        }
        var body = await response.Content.ReadAsStringAsync();
        return body[..Math.Min(body.Length, 200)].ReplaceLineEndings(" ");
    }
}
