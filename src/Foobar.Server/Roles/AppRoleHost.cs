using Foobar.App;
using Foobar.Server.Admin;
using Foobar.Topology;
using Microsoft.AspNetCore.Builder;

namespace Foobar.Server.Roles;

internal sealed class AppRoleHost(Topology.Topology topology, ServerSpec server) : IRoleHost
{
    public Role Role => Role.App;

    public int? HttpPort => topology.App.Port;

    public void Configure(IApplicationBuilder app) => FoobarApplication.Configure(app, new AppOptions(server.Name, topology.SiteHost));

    public Task RunAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public RoleHealth Health() => new("app", RoleStates.Ready, $"http://{server.Address}:{HttpPort}/");
}
