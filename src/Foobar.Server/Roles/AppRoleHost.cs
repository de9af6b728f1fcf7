using Foobar.App;
using Foobar.App.Guestbook;
using Foobar.Data;
using Foobar.Db.Accounts;
using Foobar.Db.Schema;
using Foobar.Server.Admin;
using Foobar.Topology;
using Microsoft.AspNetCore.Builder;

namespace Foobar.Server.Roles;

/// <summary>
/// The app role: the foobar.com application, with a <see cref="DbRouter"/> over the topology's db
/// servers, connecting from this server's own address with the generated application account.
/// </summary>
internal sealed class AppRoleHost : IRoleHost
{
    private readonly Topology.Topology _topology;
    private readonly ServerSpec _server;
    private readonly DbRouter? _db;

    public AppRoleHost(Topology.Topology topology, ServerSpec server, ServerPaths paths)
    {
        _topology = topology;
        _server = server;
        var dbServers = topology.ServersWith(Role.Db);
        if (dbServers.Count > 0)
        {
            var credentials = DbCredentials.LoadOrCreate(paths.DbCredentialsFile);
            _db = new DbRouter(new DataOptions
            {
                Nodes = dbServers.Select(s => new DataNode(s.Name, s.Address, topology.Db.Port)).ToList(),
                User = DbCredentials.AppUser,
                Password = credentials.AppPassword,
                Database = DbSchema.Name,
                LocalAddress = server.Address,
                MaxReplicaLag = topology.Db.MaxReplicaLag,
            });
        }
    }

    public Role Role => Role.App;

    public int? HttpPort => _topology.App.Port;

    public void Configure(IApplicationBuilder app) => FoobarApplication.Configure(app,
        new AppOptions(_server.Name, _topology.SiteHost, _db is null ? null : new EntryStore(_db, _server.Name)));

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (_db is null)
        {
            return;
        }
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await _db.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The control plane's news of a new primary: the router looks again; returns who it now sees.</summary>
    public Task<string?> PrimaryChangedAsync() => _db?.PrimaryChangedAsync() ?? Task.FromResult<string?>(null);

    public RoleHealth Health() => new("app", RoleStates.Ready,
        $"http://{_server.Address}:{HttpPort}/" + (_db is null ? "" : $"; db primary {_db.Primary ?? "unknown"}"));

    public void ApplyTopology(Topology.Topology topology)
    {
    }
}
