using Foobar.Http.Backends;

namespace Foobar.Http.LoadBalancing;

/// <summary>Chooses which of the usable backends gets the next request.</summary>
/// <remarks>Called concurrently from every request; implementations are thread-safe.</remarks>
public interface ILoadBalancingPolicy
{
    /// <summary>One of <paramref name="candidates"/> (never empty, every one usable) for the request <paramref name="key"/>.</summary>
    Backend Choose(ReadOnlySpan<Backend> candidates, BalanceKey key);
}
