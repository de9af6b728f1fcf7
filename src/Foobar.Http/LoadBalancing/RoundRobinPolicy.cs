using Foobar.Http.Backends;

namespace Foobar.Http.LoadBalancing;

/// <summary>
/// Each request goes to the next usable backend in turn, in proportion to the weights (HAProxy's
/// <c>roundrobin</c>, the seeds' algorithm). Smooth weighted round robin: weights 3 and 1 give
/// a, a, b, a rather than a, a, a, b, and a backend leaving or rejoining shifts nothing else.
/// </summary>
public sealed class RoundRobinPolicy : ILoadBalancingPolicy
{
    private readonly Lock _lock = new();
    private readonly Dictionary<Backend, long> _current = [];

    /// <inheritdoc />
    public Backend Choose(ReadOnlySpan<Backend> candidates, BalanceKey key)
    {
        if (candidates.Length == 1)
        {
            return candidates[0];
        }
        lock (_lock)
        {
            long total = 0;
            Backend? best = null;
            long bestCurrent = long.MinValue;
            foreach (var backend in candidates)
            {
                var weight = backend.EffectiveWeight;
                var current = _current.GetValueOrDefault(backend) + weight;
                _current[backend] = current;
                total += weight;
                if (current > bestCurrent)
                {
                    (best, bestCurrent) = (backend, current);
                }
            }
            _current[best!] = bestCurrent - total;
            return best!;
        }
    }
}
