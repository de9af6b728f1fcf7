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
        // One reading of each weight: a backend in its slow start changes weight as time passes.
        Span<int> weights = candidates.Length <= 64 ? stackalloc int[candidates.Length] : new int[candidates.Length];
        var total = 0L;
        for (var i = 0; i < candidates.Length; i++)
        {
            weights[i] = candidates[i].EffectiveWeight;
            total += weights[i];
        }
        var first = Draw(weights, total, exclude: -1);
        var second = Draw(weights, total - weights[first], exclude: first);
        return LeastConnectionsPolicy.Load(candidates[second]) < LeastConnectionsPolicy.Load(candidates[first]) ? candidates[second] : candidates[first];
    }

    /// <summary>The index of a backend drawn in proportion to <paramref name="weights"/>, leaving out <paramref name="exclude"/>.</summary>
    private int Draw(ReadOnlySpan<int> weights, long total, int exclude)
    {
        long point;
        lock (_lock)
        {
            // Random.Shared is thread-safe; a seeded Random (tests) is not.
            point = _random.NextInt64(total);
        }
        for (var i = 0; i < weights.Length; i++)
        {
            if (i == exclude)
            {
                continue;
            }
            if (point < weights[i])
            {
                return i;
            }
            point -= weights[i];
        }
        throw new InvalidOperationException("the weights do not add up to the total");
    }
}
