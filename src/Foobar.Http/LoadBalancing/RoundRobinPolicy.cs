namespace Foobar.Http.LoadBalancing;

/// <summary>Each request goes to the next usable backend in turn, as in the seeds' HAProxy.</summary>
public sealed class RoundRobinPolicy : ILoadBalancingPolicy
{
    private uint _counter = uint.MaxValue;

    /// <inheritdoc />
    public int Choose(int candidates) => (int)(Interlocked.Increment(ref _counter) % (uint)candidates);
}
