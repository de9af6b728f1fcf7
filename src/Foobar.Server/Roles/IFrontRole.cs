using Foobar.Server.Admin;
using Foobar.Topology;

namespace Foobar.Server.Roles;

/// <summary>
/// A role with a tier behind it — the load balancers' web servers, the web servers' app servers —
/// whose servers the control plane can take out of rotation and back (admin
/// <c>/{role}/servers</c>, <see cref="AdminPaths.ServersBehind"/>).
/// </summary>
internal interface IFrontRole
{
    Role Role { get; }

    /// <summary>The servers behind, as this server sees them.</summary>
    IReadOnlyList<BackendStatus> Backends();

    /// <summary>Drains (<paramref name="drain"/>) or readies one server behind; false when there is no such server.</summary>
    bool SetDraining(string server, bool drain);
}
