using Foobar.MySql.Transport;
using Foobar.Testing;

namespace Foobar.MySql.Tests.Transport;

[CollectionDefinition(nameof(BriefWaitTests), DisableParallelization = true)]
public sealed class QuietProcess;

/// <summary>
/// Who may wait briefly on its own thread (<see cref="BriefWait"/>). The decision depends on the
/// whole process being quiet, so these run alone, after the tests that run in parallel.
/// </summary>
[Collection(nameof(BriefWaitTests))]
public sealed class BriefWaitTests : IDisposable
{
    private readonly LoopbackPeers _peers = new();

    [Fact]
    public async Task PollersCaller_WaitsBrieflyForItsNextAnswer_OnItsThread_AfterLeavingThePoll()
    {
        if (ReadinessLoop.InlineCompletions || BriefWait.Limit == 0)
        {
            return; // No pool poller then, or no brief waits on a single processor.
        }
        var (stream, peer) = await _peers.ConnectAsync();
        using var _ = stream;
        using var __ = peer;

        // A few clients at a time: once a read waited on the loop, its caller continues on the poller.
        // Its next read must still wait briefly (on 2 processors two clients ran at half the rate of
        // two blocking ones while it waited on the loop again, and again), giving the poll away first.
        // The process may be busy for a moment (work queued for the pool): a few tries.
        var observed = (OnPoller: false, BriefWaits: 0, StillOnPoller: true);
        for (var attempt = 0; attempt < 5 && observed.BriefWaits == 0; attempt++)
        {
            var run = ReadThenCommandAsync();
            await Eventually.TrueAsync(() => stream.IsWaiting, "the read waiting on the readiness loop");
            // One byte now and the next answer right behind it: the first read takes one byte.
            peer.Send("1"u8);
            peer.Send("22"u8);
            observed = await run.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(observed.OnPoller, "the caller continued on the poller");
            var request = new byte[4];
            Assert.Equal(4, peer.Receive(request));
        }

        Assert.Equal(1, observed.BriefWaits);
        Assert.False(observed.StillOnPoller, "the brief wait left the poll to another thread");

        async Task<(bool, int, bool)> ReadThenCommandAsync()
        {
            Assert.Equal(1, await stream.ReadAsync(new byte[1]).ConfigureAwait(false));
            var onPoller = ReadinessLoop.ContinuingForPoller;
            var before = stream.BriefWaits;
            BriefWait.ForgetBusy();
            await stream.WriteAsync("next"u8.ToArray()).ConfigureAwait(false);
            // The answer is there: a read that waits briefly catches it at once, on this thread.
            var read = stream.ReadAsync(new byte[16]);
            var waitedBriefly = read.IsCompleted ? stream.BriefWaits - before : 0;
            var stillOnPoller = ReadinessLoop.ContinuingForPoller;
            Assert.Equal(2, await read.ConfigureAwait(false));
            return (onPoller, waitedBriefly, stillOnPoller);
        }
    }

    [Fact]
    public async Task BriefWaits_ThatTheAnswerDoesNotEnd_StopAfterFour_ButForAProbeNowAndThen()
    {
        if (ReadinessLoop.InlineCompletions || BriefWait.Limit == 0)
        {
            return;
        }
        var (stream, peer) = await _peers.ConnectAsync();
        using var _ = stream;
        using var __ = peer;
        var buffer = new byte[16];
        var request = new byte[1];

        // Each answer comes only once the read waits on the loop: every brief wait runs out, blocking
        // a pool thread for a tick each. A fresh connection's credit (4, 1 a miss) lasts four, then
        // one read in 64 probes: five in 70 reads (fewer if the process was busy at some of them).
        for (var i = 0; i < 70; i++)
        {
            await stream.WriteAsync("q"u8.ToArray());
            BriefWait.ForgetBusy();
            var read = stream.ReadAsync(buffer).AsTask();
            Assert.Equal(1, peer.Receive(request));
            await Eventually.TrueAsync(() => stream.IsWaiting, "the read waiting on the readiness loop");
            peer.Send("a"u8);
            Assert.Equal(1, await read.WaitAsync(TimeSpan.FromSeconds(10)));
        }

        Assert.InRange(stream.BriefWaits, 1, 5);
    }

    [Fact]
    public void Spinning_IsForNoMoreReadsAtOnceThanHalfTheProcessors()
    {
        // The server on the same machine needs the other half. A read elsewhere may hold a place
        // meanwhile: this takes places until refused, and must be refused by SpinLimit + 1.
        var taken = 0;
        try
        {
            while (taken <= BriefWait.SpinLimit && BriefWait.TryBeginSpin())
            {
                taken++;
            }
            Assert.True(taken <= BriefWait.SpinLimit, $"{taken} reads spinning at once, {BriefWait.SpinLimit} allowed");
        }
        finally
        {
            for (var i = 0; i < taken; i++)
            {
                BriefWait.EndSpin();
            }
        }
    }

    [Theory]
    [InlineData(true, 0, 0, true)]
    [InlineData(false, 0, 0, false)] // the pool's callers wait briefly instead, spin included
    [InlineData(true, 1, 0, false)] // the loop has a socket to watch
    [InlineData(true, 0, 1, false)] // a synchronous read blocks meanwhile
    public void ReadOnAnEventLoop_SpinsOnlyWhileNoOtherReadWaits(bool inlineCompletions, int waitingOnLoop, int waitingOnThreads, bool spins) =>
        Assert.Equal(spins, BriefWait.MaySpinOnLoop(inlineCompletions, waitingOnLoop, waitingOnThreads));

    [Fact]
    public async Task SpinOnAnEventLoop_StopsOnceAnotherReadWaitsThere_AtNoCostToItsConnection()
    {
        var (stream, peer) = await _peers.ConnectAsync();
        var (other, otherPeer) = await _peers.ConnectAsync();
        using var _ = stream;
        using var __ = peer;
        using var ___ = other;
        using var ____ = otherPeer;
        var buffer = new byte[16];

        // Another read waits on the loop: each spin stops after its first try, and does not count
        // as one the answer ran out (two such cost a fresh connection its spinning).
        var waiting = other.ReadAsync(new byte[16]).AsTask();
        await Eventually.TrueAsync(() => other.IsWaiting, "the other read waiting on the loop");
        for (var i = 0; i < 10; i++)
        {
            Assert.False(stream.TryReceiveSpinning(buffer, out var _, onLoop: true));
        }
        Assert.Equal(10, stream.Spins);
        Assert.Equal(10, stream.SpinTries);

        otherPeer.Send("x"u8);
        Assert.Equal(1, await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
        await Eventually.TrueAsync(() => ReadinessLoop.Waiting == 0, "nothing waiting on the loop");

        // Nothing waits now: spins the answer does not end cost credit as any other (4, 2 a miss).
        for (var i = 0; i < 10; i++)
        {
            Assert.False(stream.TryReceiveSpinning(buffer, out var _, onLoop: true));
        }
        Assert.Equal(12, stream.Spins);
        Assert.True(stream.SpinTries > 12, "a spin with nothing else waiting tries until its time runs out");
    }

    public void Dispose() => _peers.Dispose();
}
