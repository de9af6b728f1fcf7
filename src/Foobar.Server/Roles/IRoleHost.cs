using Foobar.Server.Admin;
using Foobar.Topology;
using Microsoft.AspNetCore.Builder;

namespace Foobar.Server.Roles;

/// <summary>Adapts one role library to the server process: its listener, pipeline and background work.</summary>
internal interface IRoleHost
{
    Role Role { get; }

    /// <summary>The HTTP port the role listens on, on the server's address; null when it has none.</summary>
    int? HttpPort { get; }

    void Configure(IApplicationBuilder app);

    /// <summary>Background work (health checks, the public address) until the server stops.</summary>
    Task RunAsync(CancellationToken cancellationToken);

    RoleHealth Health();

    /// <summary>Follows a changed topology's servers of the tier behind (added, removed, reweighted); nothing for roles with none.</summary>
    void ApplyTopology(Topology.Topology topology);
}
