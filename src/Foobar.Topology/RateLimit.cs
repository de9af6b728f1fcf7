namespace Foobar.Topology;

/// <summary>At most <see cref="Count"/> events per <see cref="Period"/> for each client (<see cref="Loading.RateText"/>).</summary>
/// <param name="Count">Events allowed per period; at least 1.</param>
/// <param name="Period">The period.</param>
public readonly record struct RateLimit(int Count, TimeSpan Period);
