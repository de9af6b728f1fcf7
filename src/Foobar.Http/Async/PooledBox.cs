using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace Foobar.Http.Async;

/// <summary>
/// Where a suspended call of a <see cref="PooledValueTaskBuilder{TResult}"/> method lives: its
/// state machine, and the source of the <see cref="ValueTask{TResult}"/> its caller awaits. Back
/// to its pool once the caller has the result.
/// </summary>
internal abstract class PooledBox<TResult> : IValueTaskSource<TResult>
{
    /// <summary>Continuations run where the call ends, as with the runtime's builders: a forward's caller continues on the same event loop.</summary>
    private protected ManualResetValueTaskSourceCore<TResult> _core;

    /// <summary>This use's token: a ValueTask of an earlier use no longer matches it.</summary>
    public short Version => _core.Version;

    internal void SetResult(TResult result) => _core.SetResult(result);

    internal void SetException(Exception exception) => _core.SetException(exception);

    public TResult GetResult(short token)
    {
        if (token != _core.Version)
        {
            // Awaited twice: the box may already serve another call; leave it alone.
            throw new InvalidOperationException("a pooled ValueTask was awaited after its result was taken");
        }
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            Recycle();
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    /// <summary>Forgets this use and goes back to the pool.</summary>
    private protected abstract void Recycle();
}

/// <summary>The box of one method's state machine type, with that type's pool.</summary>
internal sealed class PooledBox<TResult, TStateMachine> : PooledBox<TResult>
    where TStateMachine : IAsyncStateMachine
{
    /// <summary>
    /// Spare boxes kept per thread: as many calls of one method as an event loop usually has
    /// suspended at once (one per client connection in flight on it); beyond that they are dropped.
    /// </summary>
    public const int PerThread = 64;

    [ThreadStatic]
    private static PooledBox<TResult, TStateMachine>[]? t_spares;
    [ThreadStatic]
    private static int t_count;

    private static readonly ContextCallback RunMoveNext = static box => ((PooledBox<TResult, TStateMachine>)box!).StateMachine.MoveNext();

    /// <summary>The call's state machine, copied in at its first suspension.</summary>
    public TStateMachine StateMachine = default!;

    /// <summary>The execution context to resume in; null: the awaiter flowed it (or none to flow).</summary>
    public ExecutionContext? Context;

    private PooledBox() => MoveNextAction = MoveNext;

    /// <summary>Resumes the call: what every awaiter it suspends on is given.</summary>
    public Action MoveNextAction { get; }

    /// <summary>A spare box of this thread, else a new one.</summary>
    internal static PooledBox<TResult, TStateMachine> Rent()
    {
        var spares = t_spares;
        if (spares is not null && t_count > 0)
        {
            var box = spares[--t_count];
            spares[t_count] = null!;
            return box;
        }
        return new PooledBox<TResult, TStateMachine>();
    }

    private void MoveNext()
    {
        if (Context is null)
        {
            StateMachine.MoveNext();
        }
        else
        {
            ExecutionContext.Run(Context, RunMoveNext, this);
        }
    }

    private protected override void Recycle()
    {
        _core.Reset();
        StateMachine = default!;
        Context = null;
        var spares = t_spares ??= new PooledBox<TResult, TStateMachine>[PerThread];
        if (t_count < spares.Length)
        {
            spares[t_count++] = this;
        }
    }
}
