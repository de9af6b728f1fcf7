using Foobar.Http.Backends;
using Foobar.Http.LoadBalancing;
using Foobar.Testing;

namespace Foobar.Http.Tests.LoadBalancing;

/// <summary>Per-server limits (<see cref="Backend.MaxConcurrent"/>) and the pool's queue.</summary>
public class BackendQueueTests
{
    private static Backend Limited(string name, int max, bool backup = false) =>
        new(name, new Uri($"http://{name}/"), backup: backup) { MaxConcurrent = max };

    private static async Task<Backend> AcquireAsync(BackendPool pool, IReadOnlyCollection<Backend>? tried = null)
    {
        var acquired = await pool.AcquireAsync(tried ?? [], default, CancellationToken.None);
        Assert.Equal(Refusal.None, acquired.Refusal);
        return acquired.Backend!;
    }

    [Fact]
    public async Task Acquire_EveryServerAtItsLimit_WaitsAndGetsTheFirstSlotReleased()
    {
        var a = Limited("a", 1);
        var b = Limited("b", 2);
        var pool = new BackendPool([a, b], new RoundRobinPolicy());
        var taken = new[] { await AcquireAsync(pool), await AcquireAsync(pool), await AcquireAsync(pool) };
        Assert.Equal(1, a.ActiveRequests);
        Assert.Equal(2, b.ActiveRequests);

        var first = pool.AcquireAsync([], default, CancellationToken.None);
        var second = pool.AcquireAsync([], default, CancellationToken.None);
        Assert.False(first.IsCompleted);
        Assert.Equal(2, pool.Queued);

        pool.Release(b);
        Assert.Same(b, (await first).Backend);
        Assert.False(second.IsCompleted);
        Assert.Equal(2, b.ActiveRequests);

        pool.Release(a);
        Assert.Same(a, (await second).Backend);
        Assert.Equal(0, pool.Queued);
        Assert.Equal(3, taken.Length);
    }

    [Fact]
    public async Task Acquire_QueueFull_IsRefusedAtOnce()
    {
        var pool = new BackendPool([Limited("a", 1)], new RoundRobinPolicy(), new QueueOptions { Length = 1 });
        await AcquireAsync(pool);
        var waiting = pool.AcquireAsync([], default, CancellationToken.None);

        var refused = await pool.AcquireAsync([], default, CancellationToken.None);

        Assert.Equal(Refusal.QueueFull, refused.Refusal);
        Assert.Null(refused.Backend);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, pool.QueueRefused);
    }

    [Fact]
    public async Task Acquire_NoSlotWithinTheQueueTimeout_IsRefused_AndLeavesTheQueue()
    {
        var time = new FakeTimeProvider();
        var a = Limited("a", 1);
        var pool = new BackendPool([a], new RoundRobinPolicy(), new QueueOptions { Timeout = TimeSpan.FromSeconds(5), Time = time });
        await AcquireAsync(pool);
        var waiting = pool.AcquireAsync([], default, CancellationToken.None).AsTask();

        time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(waiting.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(0.2));

        Assert.Equal(Refusal.QueueTimeout, (await waiting).Refusal);
        Assert.Equal(0, pool.Queued);
        pool.Release(a);
        Assert.Equal(0, a.ActiveRequests);
    }

    [Fact]
    public async Task Acquire_EachWaitRunsOutOnItsOwnDeadline_FirstComeFirstRefused()
    {
        var time = new FakeTimeProvider();
        var a = Limited("a", 1);
        var pool = new BackendPool([a], new RoundRobinPolicy(), new QueueOptions { Timeout = TimeSpan.FromSeconds(5), Time = time });
        await AcquireAsync(pool);
        var first = pool.AcquireAsync([], default, CancellationToken.None).AsTask();
        time.Advance(TimeSpan.FromSeconds(2));
        var second = pool.AcquireAsync([], default, CancellationToken.None).AsTask();

        time.Advance(TimeSpan.FromSeconds(3.1));
        Assert.Equal(Refusal.QueueTimeout, (await first).Refusal);
        Assert.False(second.IsCompleted);
        Assert.Equal(1, pool.Queued);

        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(Refusal.QueueTimeout, (await second).Refusal);
        Assert.Equal(2, pool.QueueRefused);

        // The queue works on after its timer went quiet.
        var third = pool.AcquireAsync([], default, CancellationToken.None).AsTask();
        pool.Release(a);
        Assert.Same(a, (await third).Backend);
    }

    /// <summary>Off the event loops (which run it after the releasing code: EpollTransportTests) a served waiter continues on the thread pool, never nested in the release.</summary>
    [Fact]
    public async Task AServedWaiter_FreedOffTheLoops_ContinuesOnThePool_NotInTheRelease()
    {
        var a = Limited("a", 1);
        var pool = new BackendPool([a], new RoundRobinPolicy());
        await AcquireAsync(pool);
        var continuedOn = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiting = WaitAsync();
        var releasedOn = -1;

        var releaser = new Thread(() =>
        {
            releasedOn = Environment.CurrentManagedThreadId;
            pool.Release(a);
        });
        releaser.Start();
        releaser.Join();

        Assert.NotEqual(releasedOn, await continuedOn.Task);
        await waiting;

        async Task WaitAsync()
        {
            // As the forwarder awaits: no context to go back to.
            var acquired = await pool.AcquireAsync([], default, CancellationToken.None).ConfigureAwait(false);
            continuedOn.SetResult(Environment.CurrentManagedThreadId);
            Assert.Same(a, acquired.Backend);
        }
    }

    [Fact]
    public async Task Acquire_CancelledWhileWaiting_Throws_AndLeavesTheQueue()
    {
        var pool = new BackendPool([Limited("a", 1)], new RoundRobinPolicy());
        await AcquireAsync(pool);
        using var cancel = new CancellationTokenSource();
        var waiting = pool.AcquireAsync([], default, cancel.Token).AsTask();

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(0, pool.Queued);
    }

    [Fact]
    public async Task Acquire_ThatWouldWait_WithATokenCancelledAlready_Throws_AndLeavesNothingQueued()
    {
        var a = Limited("a", 1);
        var pool = new BackendPool([a], new RoundRobinPolicy());
        await AcquireAsync(pool);
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pool.AcquireAsync([], default, cancel.Token).AsTask());

        Assert.Equal(0, pool.Queued);
        pool.Release(a);
        Assert.Equal(0, a.ActiveRequests);
    }

    [Fact]
    public async Task Acquire_FullPrimaries_QueueRatherThanSpillToTheBackup()
    {
        var main = Limited("main", 1);
        var spare = Limited("spare", 1, backup: true);
        var pool = new BackendPool([main, spare], new RoundRobinPolicy());
        await AcquireAsync(pool);

        var waiting = pool.AcquireAsync([], default, CancellationToken.None);

        Assert.False(waiting.IsCompleted);
        Assert.Equal(0, spare.ActiveRequests);
        main.SetState(BackendState.Down, "test");
        pool.Release(main);
        Assert.Same(spare, (await waiting).Backend);
    }

    [Fact]
    public async Task Acquire_ServerComingUpOrReady_TakesWaitersAtOnce()
    {
        var a = Limited("a", 1);
        var b = Limited("b", 1);
        var c = Limited("c", 1);
        b.SetState(BackendState.Down, "test");
        var pool = new BackendPool([a, b, c], new RoundRobinPolicy());
        pool.SetDraining("c", true);
        await AcquireAsync(pool);
        var first = pool.AcquireAsync([], default, CancellationToken.None);
        var second = pool.AcquireAsync([], default, CancellationToken.None);

        b.SetState(BackendState.Up, "check passed");
        Assert.Same(b, (await first).Backend);
        Assert.False(second.IsCompleted);

        pool.SetDraining("c", false);
        Assert.Same(c, (await second).Backend);
    }

    [Fact]
    public async Task Acquire_WaiterThatTriedTheFreedServer_IsPassedOver()
    {
        var a = Limited("a", 1);
        var b = Limited("b", 1);
        var pool = new BackendPool([a, b], new RoundRobinPolicy());
        await AcquireAsync(pool);
        await AcquireAsync(pool);
        var retry = pool.AcquireAsync([a], default, CancellationToken.None);
        var fresh = pool.AcquireAsync([], default, CancellationToken.None);

        pool.Release(a);

        Assert.False(retry.IsCompleted);
        Assert.Same(a, (await fresh).Backend);
        pool.Release(b);
        Assert.Same(b, (await retry).Backend);
    }

    [Fact]
    public async Task Acquire_NoLimits_NeverQueues()
    {
        var pool = new BackendPool(Backends.Named("a"), new RoundRobinPolicy());
        for (var i = 0; i < 100; i++)
        {
            await AcquireAsync(pool);
        }
        Assert.Equal(100, pool.Backends[0].ActiveRequests);
        Assert.Equal(Refusal.NoneUp, (await pool.AcquireAsync(pool.Backends, default, CancellationToken.None)).Refusal);
    }
}
