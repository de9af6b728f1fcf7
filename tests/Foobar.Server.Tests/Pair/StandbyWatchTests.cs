using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Foobar.LoadBalancer;
using Foobar.Server.Pair;
using Foobar.Testing;

namespace Foobar.Server.Tests.Pair;

/// <summary>
/// The standby's heartbeat against a stand-in for the active load balancer: a real
/// <see cref="HeartbeatResponder"/> answering for a real process (<c>sleep</c>) the standby may
/// kill, the public address taken by a socket of the test's, and a fake clock for the silence.
/// </summary>
public sealed class StandbyWatchTests : IDisposable
{
    private static readonly TimeSpan TakeoverAfter = TimeSpan.FromMilliseconds(500);

    private readonly FakeTimeProvider _time = new();
    private readonly ListLogger _log = new();
    private readonly TcpListener _publicAddress = new(IPAddress.Loopback, 0);
    private readonly Process _holder = Process.Start(new ProcessStartInfo("sleep", "300"))!;
    private volatile bool _holds = true;
    private HeartbeatResponder _responder;

    public StandbyWatchTests()
    {
        _publicAddress.Start();
        _responder = HeartbeatResponder.Start(new IPEndPoint(IPAddress.Loopback, 0), "lb1", _holder.Id, () => _holds, _log);
    }

    public void Dispose()
    {
        if (!_holder.HasExited)
        {
            _holder.Kill();
        }
        _holder.Dispose();
        _responder.Dispose();
        _publicAddress.Stop();
    }

    [Fact]
    public async Task AHolderThatAnswers_IsNeverFenced_HoweverLongTheWatch()
    {
        await using var claim = Claim();
        using var watch = Watch(claim);

        for (var i = 0; i < 5; i++)
        {
            watch.Beat();
            _time.Advance(TakeoverAfter);
        }
        watch.Beat();

        Assert.False(_holder.HasExited, string.Join("\n", _log.Messages));
        Assert.Contains(_log.Messages, m => m.Contains($"Watching lb1 (pid {_holder.Id})", StringComparison.Ordinal));
        Assert.DoesNotContain(_log.Messages, m => m.Contains("fencing", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AHolderThatFallsSilent_IsFencedOnceTheTakeoverTimeHasPassed_NotBefore()
    {
        await using var claim = Claim();
        using var watch = Watch(claim);
        watch.Beat();

        _responder.Dispose();
        _time.Advance(TakeoverAfter / 2);
        watch.Beat();
        var aliveBeforeTheTakeoverTime = !_holder.HasExited;
        _time.Advance(TakeoverAfter / 2);
        watch.Beat();

        Assert.True(aliveBeforeTheTakeoverTime);
        await Eventually.TrueAsync(() => _holder.HasExited, "the silent holder killed");
        Assert.Contains(_log.Messages, m => m.Contains($"lb1 (pid {_holder.Id}) holds", StringComparison.Ordinal) && m.Contains("(fencing)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task APeerThatDoesNotHoldTheAddress_IsNeverTakenForTheHolder()
    {
        _holds = false;
        await using var claim = Claim();
        using var watch = Watch(claim);
        watch.Beat();

        _responder.Dispose();
        _time.Advance(TakeoverAfter * 2);
        watch.Beat();

        Assert.False(_holder.HasExited);
    }

    [Fact]
    public async Task AnAddressThatIsFreeAlready_IsNotFencedFor()
    {
        await using var claim = Claim();
        using var watch = Watch(claim);
        watch.Beat();

        // The holder died and its socket went with it: the claim binds it, no one to kill.
        _publicAddress.Stop();
        _responder.Dispose();
        _time.Advance(TakeoverAfter * 2);
        watch.Beat();

        Assert.False(_holder.HasExited);
    }

    [Fact]
    public async Task TheRunningWatch_ReadsEachPingsAnswerAtItsNextWakeUp_AndFencesTheHolderOnlyOnceItFallsSilent()
    {
        await using var claim = Claim();
        using var watch = Watch(claim);
        using var stop = new CancellationTokenSource();
        var run = watch.RunAsync(stop.Token);

        await Eventually.TrueAsync(() => _log.Messages.Any(m => m.Contains($"Watching lb1 (pid {_holder.Id})", StringComparison.Ordinal)), "the watch learns the holder from its answers");
        // Answering, the holder is never fenced however far the clock moves.
        for (var i = 0; i < 3; i++)
        {
            _time.Advance(TakeoverAfter * 2);
            var beats = watch.Beats;
            await Eventually.TrueAsync(() => watch.Beats >= beats + 2, "two more beats, the second reading the first's answer");
        }
        Assert.False(_holder.HasExited, string.Join("\n", _log.Messages));

        _responder.Dispose();
        // An answer already on its way is read at the next beat or the one after: only then does the silence start.
        var before = watch.Beats;
        await Eventually.TrueAsync(() => watch.Beats >= before + 2, "two beats after the holder fell silent");
        Assert.False(_holder.HasExited);
        _time.Advance(TakeoverAfter);

        await Eventually.TrueAsync(() => _holder.HasExited, "the silent holder killed by the running watch");
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task TheRunningWatch_FindsTheAddressFree_AndHasTheClaimTakeIt()
    {
        await using var claim = new PublicAddressClaim((IPEndPoint)_publicAddress.LocalEndpoint, _ => { }, PublicAddressClaim.WhenNudged, _time, _log);
        using var watch = Watch(claim);
        using var stop = new CancellationTokenSource();
        var watching = watch.RunAsync(stop.Token);
        var claiming = claim.RunAsync(stop.Token);
        await Eventually.TrueAsync(() => _log.Messages.Any(m => m.Contains("Watching lb1", StringComparison.Ordinal)), "the watch learns the holder");
        Assert.False(claim.Held);

        // The holder dies: its socket goes, the address is free, nobody to fence.
        _publicAddress.Stop();
        _responder.Dispose();

        await Eventually.TrueAsync(() => claim.Held, "the claim takes the address the watch found free");
        Assert.False(_holder.HasExited);
        await stop.CancelAsync();
        await Task.WhenAll(watching, claiming);
    }

    private StandbyWatch Watch(PublicAddressClaim claim) =>
        new([("lb1", _responder.EndPoint)], claim, IPAddress.Loopback, TakeoverAfter, _time, _log);

    /// <summary>The claim on the address the test's socket holds.</summary>
    private PublicAddressClaim Claim() =>
        new((IPEndPoint)_publicAddress.LocalEndpoint, _ => { }, PublicAddressClaim.WhenNudged, _time, _log);
}
