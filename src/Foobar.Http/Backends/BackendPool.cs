using Foobar.Http.LoadBalancing;

namespace Foobar.Http.Backends;

/// <summary>The servers one tier forwards to, with the policy that picks among them.</summary>
public sealed class BackendPool(IReadOnlyList<Backend> backends, ILoadBalancingPolicy policy)
{
    /// <summary>Every backend, up or down.</summary>
    public IReadOnlyList<Backend> Backends { get; } = backends;

    /// <summary>
    /// The next backend to try, skipping down ones and those already tried for this request;
    /// null when none is left.
    /// </summary>
    public Backend? Pick(IReadOnlyCollection<Backend> tried)
    {
        Span<int> candidates = stackalloc int[Backends.Count];
        var count = 0;
        for (var i = 0; i < Backends.Count; i++)
        {
            var backend = Backends[i];
            if (backend.State == BackendState.Up && !tried.Contains(backend))
            {
                candidates[count++] = i;
            }
        }
        return count == 0 ? null : Backends[candidates[policy.Choose(count)]];
    }
}
