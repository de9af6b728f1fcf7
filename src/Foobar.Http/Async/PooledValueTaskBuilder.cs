using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Foobar.Http.Async;

/// <summary>
/// An async method builder for <see cref="ValueTask{TResult}"/> methods that suspend on most calls
/// with many calls in flight at once, as a forward does on a busy server: put
/// <c>[AsyncMethodBuilder(typeof(PooledValueTaskBuilder&lt;&gt;))]</c> on the method. Like the
/// runtime's <see cref="PoolingAsyncValueTaskMethodBuilder{TResult}"/> it keeps the state machine
/// of a suspended call in a reused box; but that one keeps one spare box per thread and per
/// processor, so with dozens of calls in flight nearly every call allocated its box (measured on
/// the load balancer: two boxes, about 400 bytes, of its ~600 bytes allocated per request), while
/// this one keeps up to <see cref="PooledBox{TResult, TStateMachine}.PerThread"/> per thread.
/// The returned ValueTask may be awaited once, as any pooled one.
/// </summary>
[StructLayout(LayoutKind.Auto)]
internal struct PooledValueTaskBuilder<TResult>
{
    /// <summary>The box of a call that suspended; null while it has not.</summary>
    private PooledBox<TResult>? _box;
    private TResult? _result;
    private Exception? _exception;

    public static PooledValueTaskBuilder<TResult> Create() => default;

    /// <summary>The call's task: its result when it ended before suspending, else its box.</summary>
    public ValueTask<TResult> Task => _box is { } box ? new ValueTask<TResult>(box, box.Version)
        : _exception is { } exception ? ValueTask.FromException<TResult>(exception)
        : new ValueTask<TResult>(_result!);

    /// <summary>Runs the method up to its first suspension, with the runtime's handling of the execution and synchronization contexts.</summary>
    public void Start<TStateMachine>(ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine => AsyncTaskMethodBuilder.Create().Start(ref stateMachine);

    public void SetStateMachine(IAsyncStateMachine stateMachine)
    {
        // Only the runtime's own boxing calls this; ours never does.
    }

    public void SetResult(TResult result)
    {
        if (_box is { } box)
        {
            box.SetResult(result);
        }
        else
        {
            _result = result;
        }
    }

    public void SetException(Exception exception)
    {
        if (_box is { } box)
        {
            box.SetException(exception);
        }
        else
        {
            _exception = exception;
        }
    }

    public void AwaitOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : INotifyCompletion
        where TStateMachine : IAsyncStateMachine =>
        awaiter.OnCompleted(BoxOf(ref stateMachine, captureContext: false).MoveNextAction);

    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion
        where TStateMachine : IAsyncStateMachine =>
        awaiter.UnsafeOnCompleted(BoxOf(ref stateMachine, captureContext: true).MoveNextAction);

    /// <summary>
    /// The call's box; at its first suspension one is rented and the state machine (this builder
    /// with it, already pointing at the box) copied in. <paramref name="captureContext"/>: the
    /// awaiter does not flow the execution context, so the box does.
    /// </summary>
    private PooledBox<TResult, TStateMachine> BoxOf<TStateMachine>(ref TStateMachine stateMachine, bool captureContext)
        where TStateMachine : IAsyncStateMachine
    {
        PooledBox<TResult, TStateMachine> box;
        if (_box is null)
        {
            box = PooledBox<TResult, TStateMachine>.Rent();
            _box = box;
            box.StateMachine = stateMachine;
        }
        else
        {
            box = (PooledBox<TResult, TStateMachine>)_box;
        }
        box.Context = captureContext ? ExecutionContext.Capture() : null;
        return box;
    }
}
