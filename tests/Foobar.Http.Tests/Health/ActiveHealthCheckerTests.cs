using Foobar.Http.Backends;
using Foobar.Http.Forwarder;
using Foobar.Http.Health;
using Foobar.Http.LoadBalancing;
using Foobar.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Foobar.Http.Tests.Health;

public class ActiveHealthCheckerTests
{
    [Fact]
    public async Task Checks_FallFailuresInARowTakeItDown_RisePassesBringItBack()
    {
        var status = 503;
        string? path = null;
        await using var backend = await LoopbackServer.StartAsync(context =>
        {
            path = context.Request.Path;
            context.Response.StatusCode = status;
            return Task.CompletedTask;
        });
        var target = new Backend("a", backend.BaseUri);
        var changes = new List<string>();
        target.StateChanged += (_, state, reason) => changes.Add($"{state}: {reason}");
        var checker = Create(target, new() { Rise = 3, Fall = 2 });

        await checker.CheckAsync(target, CancellationToken.None);
        Assert.Equal(BackendState.Up, target.State);
        Assert.Equal(TimeSpan.FromMilliseconds(250), checker.NextDelay(target)); // changing: checked faster
        await checker.CheckAsync(target, CancellationToken.None);
        Assert.Equal(BackendState.Down, target.State);
        Assert.Equal("/healthz", path);
        Assert.Equal(TimeSpan.FromSeconds(1), checker.NextDelay(target));

        status = 200;
        await checker.CheckAsync(target, CancellationToken.None);
        await checker.CheckAsync(target, CancellationToken.None);
        Assert.Equal(BackendState.Down, target.State);
        await checker.CheckAsync(target, CancellationToken.None);
        Assert.Equal(BackendState.Up, target.State);

        Assert.Equal(["Down: 2 checks in a row failed, the last: check answered 503", "Up: 3 checks in a row passed"], changes);
    }

    [Fact]
    public async Task Checks_AStreakBrokenByAnAgreeingCheck_StartsOver()
    {
        var statuses = new Queue<int>([500, 200, 500, 200]);
        await using var backend = await LoopbackServer.StartAsync(context =>
        {
            context.Response.StatusCode = statuses.Dequeue();
            return Task.CompletedTask;
        });
        var target = new Backend("a", backend.BaseUri);
        var checker = Create(target, new() { Fall = 2 });

        for (var i = 0; i < 4; i++)
        {
            await checker.CheckAsync(target, CancellationToken.None);
        }

        Assert.Equal(BackendState.Up, target.State);
    }

    [Fact]
    public async Task Checks_ExpectedStatus_OnlyThoseCount()
    {
        await using var backend = await LoopbackServer.StartAsync(context =>
        {
            context.Response.StatusCode = 204;
            return Task.CompletedTask;
        });
        var target = new Backend("a", backend.BaseUri);
        var checker = Create(target, new() { Fall = 1, ExpectedStatus = [200] });

        await checker.CheckAsync(target, CancellationToken.None);

        Assert.Equal(BackendState.Down, target.State);
        Assert.True(new HealthCheckOptions().Passes(302));
        Assert.False(new HealthCheckOptions().Passes(404));
    }

    [Fact]
    public async Task Check_NotAnsweredWithinTheTimeout_Fails()
    {
        using var release = new CancellationTokenSource();
        await using var backend = await LoopbackServer.StartAsync(async context =>
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(30), release.Token);
            }
            catch (OperationCanceledException)
            {
            }
        });
        var target = new Backend("a", backend.BaseUri);
        var changes = new List<string>();
        target.StateChanged += (_, _, reason) => changes.Add(reason);
        var checker = Create(target, new() { Fall = 1, Timeout = TimeSpan.FromMilliseconds(200) });

        await checker.CheckAsync(target, CancellationToken.None);
        await release.CancelAsync();

        Assert.Equal(BackendState.Down, target.State);
        Assert.Contains("not answered within 200 ms", Assert.Single(changes));
    }

    [Fact]
    public async Task Check_ConnectionRefused_CountsAsAFailure()
    {
        var target = new Backend("a", LoopbackServer.ClosedPort());

        await Create(target, new() { Fall = 1 }).CheckAsync(target, CancellationToken.None);

        Assert.Equal(BackendState.Down, target.State);
    }

    // CheckAsync is called directly. The timeout is generous unless a test is about it: a cold
    // server on a busy CI machine can take over a second to answer its first request.
    [Fact]
    public async Task Run_FollowsThePool_CheckingAddedBackendsAndNoLongerTheRemovedOnes()
    {
        var checkedBy = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        Task<LoopbackServer> Server(string name) => LoopbackServer.StartAsync(context =>
        {
            checkedBy.AddOrUpdate(name, 1, (_, n) => n + 1);
            return Task.CompletedTask;
        });
        await using var a = await Server("a");
        await using var b = await Server("b");
        var first = new Backend("a", a.BaseUri);
        var added = new Backend("b", b.BaseUri, BackendState.Down);
        var pool = new BackendPool([first], new RoundRobinPolicy());
        var checker = new ActiveHealthChecker(pool, new HealthCheckOptions { Interval = TimeSpan.FromMilliseconds(20), FastInterval = TimeSpan.FromMilliseconds(20) },
            ForwarderClient.Create(), TimeProvider.System, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var running = checker.RunAsync(stop.Token);
        await Eventually.TrueAsync(() => checkedBy.GetValueOrDefault("a") > 0, "a checked");

        pool.Replace([added]);

        await Eventually.TrueAsync(() => added.State == BackendState.Up, "the added backend checked up");
        var aChecks = checkedBy["a"];
        await Eventually.TrueAsync(() => checkedBy["b"] > 5, "b checked a few more times");
        Assert.InRange(checkedBy["a"], aChecks, aChecks + 1); // at most the one in flight when it was removed
        await stop.CancelAsync();
        await running;
    }

    private static ActiveHealthChecker Create(Backend target, HealthCheckOptions options) => new(
        new BackendPool([target], new RoundRobinPolicy()),
        options.Timeout == new HealthCheckOptions().Timeout ? options with { Timeout = TimeSpan.FromSeconds(10) } : options,
        ForwarderClient.Create(), TimeProvider.System, NullLogger.Instance);
}
