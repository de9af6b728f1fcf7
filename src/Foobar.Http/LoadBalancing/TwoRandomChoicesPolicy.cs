using Foobar.Http.Backends;

namespace Foobar.Http.LoadBalancing;

/// <summary>
/// Draws two different backends at random, in proportion to their weights, and takes the one with
/// fewer requests in flight (HAProxy's <c>random(2)</c>, "the power of two choices"): nearly as
/// even as least-connections, with no scan of every backend and no herd on the least loaded.
/// </summary>
public sealed class TwoRandomChoicesPolicy(Random? random = null) : ILoadBalancingPolicy
{
    private readonly Random _random = random ?? Random.Shared;
    private readonly Lock _lock = new();

    /// <inheritdoc />
    public Backend Choose(ReadOnlySpan<Backend> candidates, BalanceKey key)
    {
        if (candidates.Length == 1)
        {
            return candidates[0];
        }
        var total = 0L;
        foreach (var backend in candidates)
        {
            total += backend.Weight;
        }
        var first = Draw(candidates, total, exclude: null);
        var second = Draw(candidates, total - first.Weight, exclude: first);
        return LeastConnectionsPolicy.Load(second) < LeastConnectionsPolicy.Load(first) ? second : first;
    }

    private Backend Draw(ReadOnlySpan<Backend> candidates, long total, Backend? exclude)
    {
        long point;
        lock (_lock)
        {
            // Random.Shared is thread-safe; a seeded Random (tests) is not.
            point = _random.NextInt64(total);
        }
        foreach (var backend in candidates)
        {
            if (backend == exclude)
            {
                continue;
            }
            if (point < backend.Weight)
            {
                return backend;
            }
            point -= backend.Weight;
        }
        throw new InvalidOperationException("weights changed while drawing");
    }
}
