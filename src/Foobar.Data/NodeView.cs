namespace Foobar.Data;

/// <summary>What the last refresh saw of one server.</summary>
/// <param name="Reachable">Whether it answered.</param>
/// <param name="Writable">read_only is off: the primary.</param>
/// <param name="LagSeconds">Seconds behind its primary; null when not replicating.</param>
internal sealed record NodeView(bool Reachable, bool Writable, long? LagSeconds)
{
    public static NodeView Unknown { get; } = new(false, false, null);
}
