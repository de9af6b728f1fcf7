using System.Net;
using System.Text.Json;
using Foobar.Server.Processes;

namespace Foobar.EndToEnd.Tests;

/// <summary>The default topology with <c>app.command</c>: each app server runs examples/python-app/app.py instead of the built-in application.</summary>
public sealed class OwnApplicationTests : IAsyncLifetime
{
    private readonly OwnApplicationTopology _topology = new();

    public Task InitializeAsync() => _topology.InitializeAsync();

    public Task DisposeAsync() => _topology.DisposeAsync();

    private sealed class OwnApplicationTopology : RunningTopology
    {
        public OwnApplicationTopology()
        {
            var yaml = File.ReadAllText(TopologyFile);
            var app = "app:\n  port: 8080\n";
            Assert.Contains(app, yaml);
            var script = Path.Combine(RepositoryRoot, "examples", "python-app", "app.py");
            File.WriteAllText(TopologyFile, yaml.Replace(app, $"{app}  command: python3 {script}\n", StringComparison.Ordinal));
        }
    }

    private string ChildPidFile(string server) => Path.Combine(_topology.StateDirectory, "pids", $"{server}.app.pid");

    private static ProcessIdentity? Child(string pidFile) => File.Exists(pidFile) ? ProcessIdentity.Parse(File.ReadAllText(pidFile)) : null;

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await _topology.Http.GetAsync($"http://{_topology.PublicAddress}{path}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Matches("^lb[12], web[12], app[12]$", string.Join(",", response.Headers.GetValues("X-Served-By")));
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    /// <summary>
    /// <c>/api/db</c> once it answers: right after <c>up</c> the app servers' endpoint to the primary
    /// may not know the primary yet (the application itself is ready sooner: its check needs no database).
    /// </summary>
    private async Task<JsonElement> DbAsync()
    {
        var (_, body) = await Poll.UntilAsync(async () =>
        {
            using var response = await _topology.Http.GetAsync($"http://{_topology.PublicAddress}/api/db");
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }, r => r.StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "the application reaching the primary");
        return JsonDocument.Parse(body).RootElement;
    }

    [Fact]
    public async Task OwnApplication_ServesBehindTheWebTier_WithTheDatabaseTierInItsEnvironment()
    {
        var whoami = await GetJsonAsync("/api/whoami");
        var db = await DbAsync();

        Assert.Equal("python", whoami.GetProperty("language").GetString());
        Assert.Equal("http", whoami.GetProperty("proto").GetString());
        // The primary it was given is its app server's endpoint to the primary, which leads to a writable server: the variables and the account work.
        Assert.Matches($"^({_topology.AddressOf("app1")}|{_topology.AddressOf("app2")}):3307$", db.GetProperty("primary").GetString());
        Assert.False(db.GetProperty("read_only").GetBoolean());
        var status = await FoobarCli.RunAsync("status", "--json", "--state", _topology.StateDirectory);
        Assert.Contains($"on http://{_topology.AddressOf("app1")}:8080/: running (pid", status.Stdout);
    }

    [Fact]
    public async Task OwnApplication_ThatDies_IsRestarted_AndKillingTheAppServerStopsIt()
    {
        var first = Child(ChildPidFile("app1"));
        Assert.NotNull(first);
        Assert.True(first.IsAlive);

        Assert.True(Signals.Send(first, Signals.Kill));
        var second = await Poll.UntilAsync(() => Task.FromResult(Child(ChildPidFile("app1"))), c => c is { IsAlive: true } && c != first,
            TimeSpan.FromSeconds(15), "app1's application started again");
        await Poll.UntilAsync(async () => (await GetJsonAsync("/api/whoami")).GetProperty("server").GetString(), s => s == "app1",
            TimeSpan.FromSeconds(15), "app1's new application in rotation");

        var kill = await FoobarCli.RunAsync("kill", "app1", "--state", _topology.StateDirectory);
        Assert.Equal(0, kill.ExitCode);
        await Poll.UntilAsync(() => Task.FromResult(second!.IsAlive), alive => !alive, TimeSpan.FromSeconds(10), "app1's application gone with app1");
        // The site keeps answering from app2.
        Assert.Equal("app2", (await GetJsonAsync("/api/whoami")).GetProperty("server").GetString());
    }

    [Fact]
    public async Task OwnApplication_AfterASwitchover_ReachesTheNewPrimary_ThroughTheSameEndpoint()
    {
        var before = await Poll.UntilAsync(DbAsync, d => !d.GetProperty("read_only").GetBoolean(), TimeSpan.FromSeconds(30), "the primary through the endpoint");

        var switchover = await FoobarCli.RunAsync("db", "switchover", "--state", _topology.StateDirectory);
        // Every app server follows within a moment; each answer must come from a writable server that is not the old primary.
        var after = await Poll.UntilAsync(async () => new[] { await DbAsync(), await DbAsync() },
            d => d.All(x => x.GetProperty("server_id").GetInt32() != before.GetProperty("server_id").GetInt32()), TimeSpan.FromSeconds(15), "both app servers on the new primary");

        Assert.True(switchover.ExitCode == 0, switchover.Output);
        Assert.All(after, d => Assert.False(d.GetProperty("read_only").GetBoolean()));
        // The application was told nothing: the same variable (its own app server's endpoint), the same process.
        Assert.All([before, .. after], d => Assert.Equal($"{_topology.AddressOf(d.GetProperty("server").GetString()!)}:3307", d.GetProperty("primary").GetString()));
    }
}
