using Foobar.Server.Admin;
using Foobar.Topology;
using Microsoft.AspNetCore.Builder;

namespace Foobar.Server.Roles;

/// <summary>A role that is not built yet. It says so in status instead of pretending to work.</summary>
internal sealed class PlaceholderRoleHost(Role role, string detail) : IRoleHost
{
    public Role Role => role;

    public int? HttpPort => null;

    public void Configure(IApplicationBuilder app)
    {
    }

    public Task RunAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public RoleHealth Health() => new(role.Name(), RoleStates.Placeholder, detail);

    public void ApplyTopology(Topology.Topology topology)
    {
    }
}
