namespace Foobar.Topology;

/// <summary>The part a <see cref="Role.Db"/> server plays in replication.</summary>
public enum DbRole
{
    /// <summary>Takes the writes and replicates them.</summary>
    Primary,
    /// <summary>Read-only copy of the primary.</summary>
    Replica,
}
