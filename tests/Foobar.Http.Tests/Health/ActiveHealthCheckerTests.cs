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
    public async Task Check_StatusDecidesUpOrDown()
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
        var checker = Create(target);

        await checker.CheckAsync(target, CancellationToken.None);
        Assert.Equal(BackendState.Down, target.State);
        Assert.Equal("/healthz", path);

        status = 200;
        await checker.CheckAsync(target, CancellationToken.None);
        Assert.Equal(BackendState.Up, target.State);
    }

    [Fact]
    public async Task Check_ConnectionRefused_MarksDown()
    {
        var target = new Backend("a", LoopbackServer.ClosedPort());

        await Create(target).CheckAsync(target, CancellationToken.None);

        Assert.Equal(BackendState.Down, target.State);
    }

    // CheckAsync is called directly, so the interval only bounds each check: generous, because a
    // cold server on a busy CI machine can take over a second to answer its first request.
    private static ActiveHealthChecker Create(Backend target) => new(
        new BackendPool([target], new RoundRobinPolicy()), "/healthz", TimeSpan.FromSeconds(10),
        ForwarderClient.Create(), TimeProvider.System, NullLogger.Instance);
}
