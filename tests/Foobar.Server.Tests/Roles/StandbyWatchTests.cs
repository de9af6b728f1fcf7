using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Foobar.LoadBalancer;
using Foobar.Server.Admin;
using Foobar.Server.Roles;
using Foobar.Testing;
using Microsoft.AspNetCore.Http;

namespace Foobar.Server.Tests.Roles;

/// <summary>
/// The standby's heartbeat against a fake active load balancer: a real admin listener that
/// answers as a test says, for a real process (<c>sleep</c>) the standby may kill, and the public
/// address taken by a socket of the test's.
/// </summary>
public sealed class StandbyWatchTests : IAsyncLifetime
{
    private static readonly TimeSpan TakeoverAfter = TimeSpan.FromMilliseconds(500);

    private readonly FakeTimeProvider _time = new();
    private readonly ListLogger _log = new();
    private readonly TcpListener _publicAddress = new(IPAddress.Loopback, 0);
    private Process _holder = null!;
    private LoopbackServer _admin = null!;
    private volatile string _state = RoleStates.Ready;
    private volatile bool _answering = true;

    public async Task InitializeAsync()
    {
        _holder = Process.Start(new ProcessStartInfo("sleep", "300"))!;
        _publicAddress.Start();
        _admin = await LoopbackServer.StartAsync(async context =>
        {
            if (!_answering)
            {
                context.Abort();
                return;
            }
            context.Response.StatusCode = _state == RoleStates.Ready ? 200 : 503;
            await context.Response.WriteAsJsonAsync(new ServerHealthReport("lb1", _holder.Id, DateTimeOffset.UtcNow, _state == RoleStates.Ready,
                [new RoleHealth("lb", _state, "")]));
        });
    }

    public async Task DisposeAsync()
    {
        if (!_holder.HasExited)
        {
            _holder.Kill();
        }
        _holder.Dispose();
        _publicAddress.Stop();
        await _admin.DisposeAsync();
    }

    [Fact]
    public async Task AHolderWhoseWebServersAllFailedTheirChecks_StillAnswers_IsNotFenced()
    {
        await using var claim = Claim();
        using var watch = new StandbyWatch([("lb1", _admin.EndPoint)], claim, TakeoverAfter, _time, _log);
        await watch.BeatAsync(CancellationToken.None);

        // Its web servers failed a check each: it says "starting", still alive and holding.
        _state = RoleStates.Starting;
        for (var i = 0; i < 5; i++)
        {
            _time.Advance(TakeoverAfter);
            await watch.BeatAsync(CancellationToken.None);
        }

        Assert.False(_holder.HasExited, string.Join("\n", _log.Messages));
        Assert.DoesNotContain(_log.Messages, m => m.Contains("fencing", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AHolderThatStopsAnswering_IsFencedAfterTheTakeoverTime_AndTheLogSaysWhy()
    {
        await using var claim = Claim();
        using var watch = new StandbyWatch([("lb1", _admin.EndPoint)], claim, TakeoverAfter, _time, _log);
        await watch.BeatAsync(CancellationToken.None);

        _answering = false;
        _time.Advance(TakeoverAfter / 2);
        await watch.BeatAsync(CancellationToken.None);
        var aliveBeforeTheTakeoverTime = !_holder.HasExited;
        _time.Advance(TakeoverAfter / 2);
        await watch.BeatAsync(CancellationToken.None);

        Assert.True(aliveBeforeTheTakeoverTime);
        await Eventually.TrueAsync(() => _holder.HasExited, "the silent holder killed");
        Assert.Contains(_log.Messages, m => m.Contains("missed heartbeats", StringComparison.Ordinal) && m.Contains("lb1: ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AStandbyPeer_IsNeverTakenForTheHolder()
    {
        _state = RoleStates.Standby;
        await using var claim = Claim();
        using var watch = new StandbyWatch([("lb1", _admin.EndPoint)], claim, TakeoverAfter, _time, _log);
        await watch.BeatAsync(CancellationToken.None);

        _answering = false;
        _time.Advance(TakeoverAfter * 2);
        await watch.BeatAsync(CancellationToken.None);

        Assert.False(_holder.HasExited);
    }

    /// <summary>The claim on the address the test's socket holds: never free while the test runs.</summary>
    private PublicAddressClaim Claim() =>
        new((IPEndPoint)_publicAddress.LocalEndpoint, _ => { }, PublicAddressClaim.DefaultRetryInterval, _time, _log);
}
