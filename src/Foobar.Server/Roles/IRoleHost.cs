using Foobar.Server.Admin;
using Foobar.Topology;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Foobar.Server.Roles;

/// <summary>Adapts one role library to the server process: its listener, pipeline and background work.</summary>
internal interface IRoleHost
{
    Role Role { get; }

    /// <summary>The ports the role's listeners use (a request goes to the role by the port it came to); none for a role without HTTP.</summary>
    IReadOnlyList<int> Ports { get; }

    /// <summary>Adds the role's listeners on the server's address, plain or TLS.</summary>
    void Listen(KestrelServerOptions kestrel);

    void Configure(IApplicationBuilder app);

    /// <summary>Background work (health checks, the public address) until the server stops.</summary>
    Task RunAsync(CancellationToken cancellationToken);

    RoleHealth Health();

    /// <summary>Follows a changed topology's servers of the tier behind (added, removed, reweighted); nothing for roles with none.</summary>
    void ApplyTopology(Topology.Topology topology);
}
