namespace Foobar.Http.LoadBalancing;

/// <summary>Chooses which of the usable backends gets the next request.</summary>
public interface ILoadBalancingPolicy
{
    /// <summary>An index from 0 to <paramref name="candidates"/> - 1.</summary>
    int Choose(int candidates);
}
