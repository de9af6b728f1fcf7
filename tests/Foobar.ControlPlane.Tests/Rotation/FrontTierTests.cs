using System.Net;
using System.Text.Json;
using Foobar.ControlPlane.Rotation;
using Foobar.ControlPlane.Supervision;
using Foobar.Server.Admin;
using Foobar.Testing;
using Foobar.Topology;
using Foobar.Topology.Loading;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Foobar.ControlPlane.Tests.Rotation;

/// <summary>
/// The front tier's drains against a web server's admin listener played by a real HTTP server
/// (<c>GET /web/servers</c>, <c>POST /web/servers/NAME/drain|ready</c>), with requests in flight
/// that finish one per look.
/// </summary>
public sealed class FrontTierTests : IAsyncLifetime
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (bool Draining, long Active)> _apps = new() { ["app1"] = (false, 0), ["app2"] = (false, 0) };
    private readonly Dictionary<string, string> _states = new() { ["app1"] = "up", ["app2"] = "up" };
    private readonly List<string> _posts = [];
    private int _looks;
    /// <summary>The look at which app2 comes up (from down); 0: never changes.</summary>
    private int _app2UpAt;
    private LoopbackServer _web1 = null!;
    private string _dir = null!;

    public async Task InitializeAsync()
    {
        _dir = Directory.CreateTempSubdirectory("foobar-front-").FullName;
        _web1 = await LoopbackServer.StartAsync(app =>
        {
            app.MapGet("/web/servers", () =>
            {
                lock (_lock)
                {
                    if (++_looks == _app2UpAt)
                    {
                        _states["app2"] = "up";
                    }
                    var list = _apps.Select(a => new BackendStatus(a.Key, _states[a.Key], a.Value.Draining, 1, false, a.Value.Active, 0, 0, true, DateTimeOffset.UtcNow)).ToList();
                    // Each look, one request in flight finishes.
                    foreach (var name in _apps.Keys.ToList())
                    {
                        _apps[name] = (_apps[name].Draining, Math.Max(0, _apps[name].Active - 1));
                    }
                    return Results.Json(list);
                }
            });
            app.MapPost("/web/servers/{name}/{action}", (string name, string action) =>
            {
                lock (_lock)
                {
                    _posts.Add($"{name} {action}" + (_app2UpAt == 0 ? "" : $" after {_looks} looks, app2 {_states["app2"]}"));
                    _apps[name] = (action == "drain", _apps[name].Active);
                }
                return Results.Ok();
            });
        });
    }

    public async Task DisposeAsync()
    {
        await _web1.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>web1 at the fake's address, its admin port the fake's; two app servers.</summary>
    private Topology.Topology Site() => TopologyLoader.Parse($$"""
        domain: foobar.com
        network: { range: 127.0.0.0/24 }
        public: { address: 127.0.0.200 }
        admin: { port: {{_web1.EndPoint.Port}} }
        servers:
          lb1: { roles: [lb], address: 127.0.0.201 }
          web1: { roles: [web], address: 127.0.0.1 }
          app1: { roles: [app], address: 127.0.0.202 }
          app2: { roles: [app], address: 127.0.0.203 }
        """, "test.yaml", _dir);

    private FrontTier Tier(Func<string, FrontTier.Readiness> readiness, TimeSpan? othersWait = null, TimeProvider? time = null) =>
        new(Role.Web, Site(), Path.Combine(_dir, "web-drained.json"), new EventLog(TimeProvider.System), readiness, othersWait, time);

    [Fact]
    public async Task Leave_WhileTheOtherServerIsStillRising_WaitsForIt_BeforeDraining()
    {
        lock (_lock)
        {
            _states["app2"] = "down";
            _app2UpAt = 4;
        }
        using var tier = Tier(_ => new FrontTier.Readiness(100, true));

        var message = await tier.LeaveAsync("app1", 100, TimeSpan.FromSeconds(10), CancellationToken.None);

        lock (_lock)
        {
            // Looks 1-3 saw app2 down, look 4 up, look 5 was the drain's own.
            Assert.Equal(["app1 drain after 5 looks, app2 up"], _posts);
        }
        Assert.StartsWith("app1 out of rotation on web1 in ", message);
        Assert.DoesNotContain("no other", message);
    }

    [Fact]
    public async Task Leave_WhenNoOtherServerComesUp_DrainsAfterTheWait_AndSaysRequestsFail()
    {
        lock (_lock)
        {
            _states["app2"] = "down";
        }
        using var tier = Tier(_ => new FrontTier.Readiness(100, true), othersWait: TimeSpan.FromMilliseconds(200));

        var message = await tier.LeaveAsync("app1", 100, TimeSpan.FromSeconds(10), CancellationToken.None);

        lock (_lock)
        {
            Assert.Equal(["app1 drain"], _posts);
        }
        Assert.EndsWith("; no other app server was in rotation after 0.2 s (web1: app2 down): requests there fail until app1 is back", message);
    }

    [Theory]
    [InlineData("up", false, "")]
    [InlineData("down", false, "web1: app2 down")]
    [InlineData("up", true, "web1: app2 draining")]
    [InlineData("starting", false, "web1: app2 starting")]
    public async Task WithoutOthers_NamesTheFrontServersWithNothingElseInRotation(string app2State, bool app2Draining, string expected)
    {
        lock (_lock)
        {
            _states["app2"] = app2State;
            _apps["app2"] = (app2Draining, 0);
        }
        using var tier = Tier(_ => default);

        var alone = await tier.WithoutOthersAsync("app1", CancellationToken.None);

        Assert.Equal(expected, string.Join("; ", alone));
        // app1 itself is up: taking app2 out is fine whatever app2's state.
        Assert.Empty(await tier.WithoutOthersAsync("app2", CancellationToken.None));
    }

    [Fact]
    public async Task AwaitOthers_LooksAgainUntilItsDeadline_AndGivesUpWithWhatItSawLast()
    {
        lock (_lock)
        {
            _states["app2"] = "down";
        }
        var time = new FakeTimeProvider();
        var start = time.GetUtcNow();
        using var tier = Tier(_ => default, time: time);

        // The fake clock moves a poll interval only while the tier sleeps between looks, so the
        // looks are counted in the tier's own time however slow this machine is.
        var waiting = tier.AwaitOthersAsync("app1", TimeSpan.FromMilliseconds(300), CancellationToken.None);
        var giveUp = DateTime.UtcNow.AddSeconds(30);
        while (!waiting.IsCompleted && DateTime.UtcNow < giveUp)
        {
            if (time.TimersSet > 0)
            {
                time.Advance(TimeSpan.FromMilliseconds(50));
            }
            await Task.Delay(1);
        }
        var alone = await waiting;

        Assert.Equal(["web1: app2 down"], alone);
        Assert.Equal(TimeSpan.FromMilliseconds(300), time.GetUtcNow() - start);
        lock (_lock)
        {
            // At 0, 50, ..., 300 ms: one look per poll interval, the last at the deadline.
            Assert.Equal(7, _looks);
        }
    }

    [Fact]
    public async Task Leave_DrainsTheServerEverywhere_AndReturnsOnlyOnceNothingIsInFlight()
    {
        lock (_lock)
        {
            _apps["app1"] = (false, 5);
        }
        using var tier = Tier(_ => new FrontTier.Readiness(100, true));

        var message = await tier.LeaveAsync("app1", 100, TimeSpan.FromSeconds(10), CancellationToken.None);

        lock (_lock)
        {
            Assert.Equal(["app1 drain"], _posts);
            Assert.Equal((true, 0L), _apps["app1"]);
            Assert.False(_apps["app2"].Draining);
        }
        Assert.StartsWith("app1 out of rotation on web1 in ", message);
        Assert.DoesNotContain("still in flight", message);
    }

    [Fact]
    public async Task Leave_WithRequestsThatNeverFinish_GivesUpAtTheDeadline_AndSaysSo()
    {
        lock (_lock)
        {
            _apps["app1"] = (false, 1_000_000);
        }
        using var tier = Tier(_ => new FrontTier.Readiness(100, true));

        var message = await tier.LeaveAsync("app1", 100, TimeSpan.FromMilliseconds(300), CancellationToken.None);

        Assert.Contains("request(s) still in flight after 0 s", message);
    }

    [Fact]
    public async Task TheRunningTier_AsksTheFrontServersAgainOnlyWhenSomethingChanged_OrOnceTheRecheckIntervalHasPassed()
    {
        var time = new FakeTimeProvider();
        var web1Pid = 100;
        using var tier = Tier(_ => new FrontTier.Readiness(web1Pid, true), time: time);
        using var stop = new CancellationTokenSource();
        var run = tier.RunAsync(stop.Token);

        await TickAsync(tier, time);
        Assert.Equal(1, Looks());
        // web1 agreed: nothing changed since, nothing asked.
        for (var i = 0; i < 5; i++)
        {
            await TickAsync(tier, time);
        }
        Assert.Equal(1, Looks());

        // An operator's drain is told at once, and the next tick makes sure.
        await tier.SetAsync("app2", drain: true, CancellationToken.None);
        await TickAsync(tier, time);
        var afterDrain = Looks();
        await TickAsync(tier, time);
        Assert.Equal(afterDrain, Looks());

        // web1 restarted (another process): asked again at the next tick, and told the drain.
        lock (_lock)
        {
            _apps["app2"] = (false, 0);
        }
        web1Pid = 200;
        await TickAsync(tier, time);
        Assert.Equal(afterDrain + 1, Looks());
        lock (_lock)
        {
            Assert.True(_apps["app2"].Draining);
        }

        // Nothing changes for the recheck interval: then asked once more anyway.
        var ticks = (int)(FrontTier.RecheckInterval / TimeSpan.FromMilliseconds(500));
        for (var i = 0; i < ticks - 1; i++)
        {
            await TickAsync(tier, time);
        }
        Assert.Equal(afterDrain + 1, Looks());
        await TickAsync(tier, time);
        Assert.Equal(afterDrain + 2, Looks());

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    private int Looks()
    {
        lock (_lock)
        {
            return _looks;
        }
    }

    /// <summary>Moves the clock one reconcile interval on and waits until the running tier has handled that tick.</summary>
    private static async Task TickAsync(FrontTier tier, FakeTimeProvider time)
    {
        var ticks = tier.Ticks;
        time.Advance(TimeSpan.FromMilliseconds(500));
        await Eventually.TrueAsync(() => tier.Ticks > ticks, "the tier handles the tick");
    }

    [Fact]
    public async Task ALeftServer_StaysOutUntilItRunsAgainAsAnotherProcessAndIsReady()
    {
        var now = new FrontTier.Readiness(100, true);
        using var tier = Tier(_ => now);
        await tier.LeaveAsync("app1", 100, TimeSpan.FromSeconds(5), CancellationToken.None);

        // Still the old process, then the new one starting: out of rotation.
        await tier.ReconcileAsync(CancellationToken.None);
        now = new FrontTier.Readiness(200, false);
        await tier.ReconcileAsync(CancellationToken.None);
        bool drainedWhileStarting;
        lock (_lock)
        {
            drainedWhileStarting = _apps["app1"].Draining;
        }
        now = new FrontTier.Readiness(200, true);
        await tier.ReconcileAsync(CancellationToken.None);

        Assert.True(drainedWhileStarting);
        lock (_lock)
        {
            Assert.Equal(["app1 drain", "app1 ready"], _posts);
            Assert.False(_apps["app1"].Draining);
        }
        Assert.True(await tier.InRotationAsync("app1", DateTimeOffset.UtcNow.AddMinutes(-1), CancellationToken.None));
        // A passed check from before the server was ready does not count.
        Assert.False(await tier.InRotationAsync("app1", DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None));
    }

    [Fact]
    public async Task AnOperatorsDrain_IsKeptInTheStateFile_AndHeldByTheNextControlPlane()
    {
        using (var tier = Tier(_ => default))
        {
            var message = await tier.SetAsync("app2", drain: true, CancellationToken.None);
            Assert.Equal("app2 draining: no new requests, those in flight finish on web1", message);
        }
        lock (_lock)
        {
            _apps["app2"] = (false, 0);   // web1 restarted and forgot
        }

        using var next = Tier(_ => default);
        await next.ReconcileAsync(CancellationToken.None);

        Assert.Equal(["app2"], next.Drained);
        Assert.Equal(["app2"], JsonSerializer.Deserialize<List<string>>(await File.ReadAllTextAsync(Path.Combine(_dir, "web-drained.json"))));
        lock (_lock)
        {
            Assert.True(_apps["app2"].Draining);
        }
        Assert.False(await next.InRotationAsync("app2", DateTimeOffset.UtcNow.AddMinutes(-1), CancellationToken.None));
    }

    [Fact]
    public async Task Drain_OfAServerNotBehindTheTier_NamesTheOnesThatAre()
    {
        using var tier = Tier(_ => default);

        var e = await Assert.ThrowsAsync<ArgumentException>(() => tier.SetAsync("web1", drain: true, CancellationToken.None));

        Assert.Equal("no app server 'web1'; app servers: app1, app2", e.Message);
    }
}
