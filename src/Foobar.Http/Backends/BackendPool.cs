using Foobar.Http.LoadBalancing;

namespace Foobar.Http.Backends;

/// <summary>The servers one tier forwards to, with the policy that picks among them.</summary>
public sealed class BackendPool(IReadOnlyList<Backend> backends, ILoadBalancingPolicy policy)
{
    /// <summary>Every backend, up or down.</summary>
    public IReadOnlyList<Backend> Backends { get; } = backends;

    /// <summary>The policy choosing among the usable backends.</summary>
    public ILoadBalancingPolicy Policy { get; } = policy;

    /// <summary>
    /// The backend for the next try of the request <paramref name="key"/>: among those up, not
    /// draining and not <paramref name="tried"/> yet, the non-backup ones, or the backup ones when none of those is
    /// left; null when none is left at all.
    /// </summary>
    public Backend? Pick(IReadOnlyCollection<Backend> tried, BalanceKey key = default)
    {
        var small = default(SmallBuffer);
        Span<Backend> candidates = Backends.Count <= SmallBuffer.Length ? small : new Backend[Backends.Count];
        var count = Collect(candidates, tried, backup: false);
        if (count == 0)
        {
            count = Collect(candidates, tried, backup: true);
        }
        return count == 0 ? null : Policy.Choose(candidates[..count], key);
    }

    private int Collect(Span<Backend> into, IReadOnlyCollection<Backend> tried, bool backup)
    {
        var count = 0;
        foreach (var backend in Backends)
        {
            if (backend.State == BackendState.Up && !backend.Draining && backend.Backup == backup && !tried.Contains(backend))
            {
                into[count++] = backend;
            }
        }
        return count;
    }

    /// <summary>The backend named <paramref name="name"/>; null when the pool has none.</summary>
    public Backend? Find(string name) => Backends.FirstOrDefault(b => b.Name == name);

    /// <summary>Room for the candidates of a usual pool on the stack: no allocation per request.</summary>
    [System.Runtime.CompilerServices.InlineArray(Length)]
    private struct SmallBuffer
    {
        public const int Length = 16;

        private Backend _first;
    }
}
