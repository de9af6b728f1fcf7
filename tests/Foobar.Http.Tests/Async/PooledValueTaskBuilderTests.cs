using System.Runtime.CompilerServices;
using Foobar.Http.Async;

namespace Foobar.Http.Tests.Async;

// The calls are complete whenever a result is read: these tests take results the way an awaiter does, on this thread.
#pragma warning disable xUnit1031

public sealed class PooledValueTaskBuilderTests
{
    private const int InFlight = 32;

    /// <summary>Suspends its awaiters until <see cref="Open"/>, keeping their continuations in a preallocated array: no allocation of its own.</summary>
    private sealed class Gate
    {
        private readonly Action[] _waiting = new Action[InFlight];
        private int _count;

        public Awaiter GetAwaiter() => new(this);

        public void Open()
        {
            var count = _count;
            _count = 0;
            for (var i = 0; i < count; i++)
            {
                var next = _waiting[i];
                _waiting[i] = null!;
                next();
            }
        }

        public readonly struct Awaiter(Gate gate) : ICriticalNotifyCompletion
        {
            public bool IsCompleted => false;

            public void GetResult()
            {
            }

            public void OnCompleted(Action continuation) => UnsafeOnCompleted(continuation);

            public void UnsafeOnCompleted(Action continuation) => gate._waiting[gate._count++] = continuation;
        }
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private static async ValueTask<int> TwiceAfter(Gate gate, int value)
    {
        await gate;
        return value * 2;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<int> TwiceAfterWithTheRuntimesBuilder(Gate gate, int value)
    {
        await gate;
        return value * 2;
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private static async ValueTask<int> ThrowsAfter(Gate? gate, string message)
    {
        if (gate is not null)
        {
            await gate;
        }
        throw new InvalidOperationException(message);
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private static async ValueTask<int> Synchronous(int value)
    {
        await Task.CompletedTask;
        return value + 1;
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private static async ValueTask<string?> ReadsAfterYielding(AsyncLocal<string> local)
    {
        await Task.Yield();
        return local.Value;
    }

    [Fact]
    public void ACallThatNeverSuspends_HasItsResultOrItsException_WithoutABox()
    {
        var done = Synchronous(41);
        Assert.True(done.IsCompletedSuccessfully);
        Assert.Equal(42, done.Result);

        var failed = ThrowsAfter(null, "at once");
        Assert.True(failed.IsFaulted);
        Assert.Equal("at once", Assert.Throws<InvalidOperationException>(() => failed.Result).Message);
    }

    [Fact]
    public async Task CallsInFlightTogether_EachGetTheirOwnResult_AndExceptionsComeThrough()
    {
        var gate = new Gate();
        var calls = Enumerable.Range(0, InFlight - 1).Select(i => TwiceAfter(gate, i)).ToList();
        var failing = ThrowsAfter(gate, "after suspending");
        Assert.All(calls, call => Assert.False(call.IsCompleted));

        gate.Open();

        Assert.Equal(Enumerable.Range(0, InFlight - 1).Select(i => i * 2), calls.Select(call => call.Result));
        Assert.Equal("after suspending", (await Assert.ThrowsAsync<InvalidOperationException>(async () => await failing)).Message);
    }

    [Fact]
    public void ManyCallsInFlight_ReuseTheirBoxes_OnTheNextRound()
    {
        var gate = new Gate();
        var calls = new ValueTask<int>[InFlight];
        long sum = 0;
        long Round(Func<Gate, int, ValueTask<int>> call)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < InFlight; i++)
            {
                calls[i] = call(gate, i);
            }
            gate.Open();
            for (var i = 0; i < InFlight; i++)
            {
                sum += calls[i].Result;
            }
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Func<Gate, int, ValueTask<int>> ours = TwiceAfter, theirs = TwiceAfterWithTheRuntimesBuilder;
        Round(ours);
        Round(theirs);

        var oursAllocated = Round(ours);
        var theirsAllocated = Round(theirs);

        Assert.Equal(4 * 2 * (InFlight * (InFlight - 1) / 2), sum);
        // The runtime's pooling builder keeps one spare box per thread (and one per processor): it
        // allocated a box for nearly every call of the round. Ours none. (A debug build allocates
        // each call's state machine itself, on both sides alike.)
        Assert.True(oursAllocated + (InFlight - 2) * 64 <= theirsAllocated, $"ours {oursAllocated} bytes, the runtime's builder {theirsAllocated}");
    }

    [Fact]
    public void TheResult_IsTakenOnce()
    {
        var gate = new Gate();
        var call = TwiceAfter(gate, 4);
        gate.Open();

        Assert.Equal(8, call.Result);
        Assert.Throws<InvalidOperationException>(() => call.Result);
    }

    [Fact]
    public async Task TheCallersExecutionContext_FlowsAcrossTheSuspension()
    {
        var local = new AsyncLocal<string> { Value = "the caller's" };

        Assert.Equal("the caller's", await ReadsAfterYielding(local));
    }
}
