namespace Foobar.ControlPlane.Database;

/// <summary>The database tier as <c>foobar db status</c> shows it.</summary>
/// <param name="Primary">The primary's name.</param>
/// <param name="Epoch">How many times the primary changed.</param>
/// <param name="LastFailoverAt">The last automatic failover.</param>
/// <param name="Servers">Every db server, in topology order.</param>
/// <param name="Alerts">What needs a person.</param>
public sealed record DbStatusReport(string Primary, int Epoch, DateTimeOffset? LastFailoverAt, IReadOnlyList<DbServerStatus> Servers, IReadOnlyList<string> Alerts);

/// <summary>One db server.</summary>
/// <param name="Name">Server name.</param>
/// <param name="Endpoint">Address and port of its mariadbd.</param>
/// <param name="Role">primary, replica, kept out, or unreachable.</param>
/// <param name="ReadOnly">Whether it refuses writes; null when unknown (unreachable).</param>
/// <param name="GtidPosition">Every transaction it has.</param>
/// <param name="ReplicaOf">The server it replicates from.</param>
/// <param name="Replication">IO/SQL thread state, or the error.</param>
/// <param name="LagSeconds">Seconds behind its primary.</param>
/// <param name="SemiSync">For the primary: whether commits wait for a replica, and how many are connected.</param>
/// <param name="Error">Why it could not be probed.</param>
/// <param name="DiskFreeBytes">Free space on the file system holding its data; null when unknown.</param>
public sealed record DbServerStatus(string Name, string Endpoint, string Role, bool? ReadOnly, string GtidPosition, string? ReplicaOf,
    string? Replication, long? LagSeconds, string? SemiSync, string? Error, long? DiskFreeBytes);
