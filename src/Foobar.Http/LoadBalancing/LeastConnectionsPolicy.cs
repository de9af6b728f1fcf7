using Foobar.Http.Backends;

namespace Foobar.Http.LoadBalancing;

/// <summary>
/// The backend with the fewest requests in flight for its weight (HAProxy's <c>leastconn</c>);
/// ties go round robin, so an idle pool still spreads its requests.
/// </summary>
public sealed class LeastConnectionsPolicy : ILoadBalancingPolicy
{
    private uint _counter = uint.MaxValue;

    /// <inheritdoc />
    public Backend Choose(ReadOnlySpan<Backend> candidates, BalanceKey key)
    {
        var start = (int)(Interlocked.Increment(ref _counter) % (uint)candidates.Length);
        var best = candidates[start];
        for (var i = 1; i < candidates.Length; i++)
        {
            var backend = candidates[(start + i) % candidates.Length];
            if (Load(backend) < Load(best))
            {
                best = backend;
            }
        }
        return best;
    }

    /// <summary>In-flight requests per unit of weight.</summary>
    internal static double Load(Backend backend) => (double)backend.ActiveRequests / backend.EffectiveWeight;
}
