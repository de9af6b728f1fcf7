using System.Net;

namespace Foobar.Topology;

/// <summary>One host of the topology: on one machine, one process on its own loopback address.</summary>
/// <param name="Name">Host name, unique in the topology (<c>web1</c>).</param>
/// <param name="Address">The only address the server binds.</param>
/// <param name="Roles">What it runs; never empty.</param>
/// <param name="Db">Replication part when it has the <see cref="Role.Db"/> role.</param>
public sealed record ServerSpec(string Name, IPAddress Address, IReadOnlyList<Role> Roles, DbRole? Db = null)
{
    /// <summary>Smallest <see cref="Weight"/>.</summary>
    public const int MinWeight = 1;

    /// <summary>Largest <see cref="Weight"/>, as in HAProxy.</summary>
    public const int MaxWeight = 256;

    /// <summary>Its share of the requests of the tier in front of it, relative to the others. Default 1.</summary>
    public int Weight { get; init; } = 1;

    /// <summary>Takes requests from the tier in front only when no non-backup server of its role is up. Default false.</summary>
    public bool Backup { get; init; }

    /// <summary>
    /// Requests the tier in front may have in flight on this server at once; more wait in the load
    /// balancer's queue (HAProxy's <c>maxconn</c> on a server line). Default 0: no limit.
    /// </summary>
    public int MaxConn { get; init; }

    /// <summary>Largest <see cref="MaxConn"/>.</summary>
    public const int MaxMaxConn = 1_000_000;

    /// <summary>Whether the server hosts <paramref name="role"/>.</summary>
    public bool Has(Role role) => Roles.Contains(role);
}
