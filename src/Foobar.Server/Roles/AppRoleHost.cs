using System.Net;
using Foobar.App;
using Foobar.Http;
using Foobar.App.Guestbook;
using Foobar.App.Infrastructure;
using Foobar.App.Limits;
using Foobar.Data;
using Foobar.Db.Accounts;
using Foobar.Db.Schema;
using Foobar.Server.Admin;
using Foobar.Server.Apps;
using Foobar.Topology;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Foobar.Server.Roles;

/// <summary>
/// The app role: the foobar.com application, with a <see cref="DbRouter"/> over the topology's db
/// servers, connecting from this server's own address with the generated application account.
/// </summary>
internal sealed class AppRoleHost : IRoleHost, IAsyncDisposable
{
    private readonly Topology.Topology _topology;
    private readonly ServerSpec _server;
    private readonly DbRouter? _db;

    private readonly SiteTls _tls;
    private readonly ServerPaths _paths;
    private readonly HttpMessageInvoker _checkClient;
    private readonly ILogger _logger;
    private readonly DbCredentials? _credentials;
    private ChildApplication? _child;
    private readonly PrimaryEndpoint? _primaryEndpoint;

    public AppRoleHost(Topology.Topology topology, ServerSpec server, ServerPaths paths, SiteTls tls, HttpMessageInvoker checkClient, ILogger logger)
    {
        _topology = topology;
        _server = server;
        _tls = tls;
        _paths = paths;
        _checkClient = checkClient;
        _logger = logger;
        var dbServers = topology.ServersWith(Role.Db);
        if (dbServers.Count > 0)
        {
            var credentials = _credentials = DbCredentials.LoadOrCreate(paths.DbCredentialsFile);
            _db = new DbRouter(new DataOptions
            {
                Nodes = dbServers.Select(s => new DataNode(s.Name, s.Address, topology.Db.Port)).ToList(),
                User = DbCredentials.AppUser,
                Password = credentials.AppPassword,
                Database = DbSchema.Name,
                LocalAddress = server.Address,
                MaxReplicaLag = topology.Db.MaxReplicaLag,
            });
            if (topology.App.Command is not null)
            {
                _primaryEndpoint = new PrimaryEndpoint(topology, server, _db, logger);
            }
        }
    }

    public Role Role => Role.App;

    /// <summary>Your own application (<c>app.command</c>) listens on the app port itself; this server does not.</summary>
    private bool OwnApplication => _topology.App.Command is not null;

    public IReadOnlyList<int> Ports => OwnApplication ? [] : [_topology.App.Port];

    /// <summary>Plain HTTP, or with <c>app.tls</c> TLS only, presenting the local authority's certificate the web servers check.</summary>
    public void Listen(KestrelServerOptions kestrel)
    {
        if (OwnApplication)
        {
            _primaryEndpoint?.Listen(kestrel);
            return;
        }
        kestrel.Listen(new IPEndPoint(_server.Address, _topology.App.Port), listen =>
        {
            if (_topology.App.Tls)
            {
                listen.UseTls(_tls.Certificates(own: false));
            }
        });
    }

    public void Configure(IApplicationBuilder app)
    {
        FoobarApplication.Configure(app, new AppOptions(_server.Name, _topology.SiteHost, _db is null ? null : new EntryStore(_db, _server.Name))
        {
            Site = SiteMapOf(_topology),
            WriteLimit = _topology.App.WriteLimit is { } limit ? new WriteLimit(limit.Count, limit.Period) : null,
        });
    }

    /// <summary>The servers as the application shows them; its load balancers and web servers are the proxies it believes.</summary>
    private static SiteMap SiteMapOf(Topology.Topology topology) => new(
        topology.Servers.Select(s => new SiteServer(s.Name, s.Address, s.Roles.Select(r => r.Name()).ToList())).ToList(),
        topology.Lb.Mode == LbMode.ActivePassive ? topology.Public.Address : null,
        topology.Public.HttpsPort is null ? null : topology.Public.Terminate == TlsTermination.Web ? "web" : "lb");

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_topology.App.Command is { } command)
            {
                var following = _primaryEndpoint?.RunAsync(cancellationToken) ?? Task.CompletedTask;
                var environment = await AppEnvironment.ForAsync(_topology, _server, _db, _credentials, _primaryEndpoint?.EndPoint, cancellationToken).ConfigureAwait(false);
                _child = new ChildApplication(command, _topology.BaseDirectory, environment, _paths.ChildPidFile(_server.Name),
                    new Uri($"http://{_server.Address}:{_topology.App.Port}{_topology.Web.CheckPath}"), _checkClient, _logger);
                await Task.WhenAll(_child.RunAsync(cancellationToken), following).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Closes the database connections, once the server has stopped: not when stopping begins,
    /// since requests in flight then still finish and need them (they failed with 500 otherwise).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_db is not null)
        {
            await _db.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The control plane's news of a new primary: the router looks again; returns who it now sees.</summary>
    public Task<string?> PrimaryChangedAsync() => _db?.PrimaryChangedAsync() ?? Task.FromResult<string?>(null);

    public RoleHealth Health()
    {
        var db = _db is null ? "" : $"; db primary {_db.Primary ?? "unknown"}";
        if (_primaryEndpoint is { } endpoint)
        {
            db += $" (FOOBAR_DB_PRIMARY {endpoint.EndPoint} → {endpoint.Target ?? "none"})";
        }
        if (OwnApplication)
        {
            var child = _child;
            return new("app", child is { Ready: true } ? RoleStates.Ready : RoleStates.Starting,
                $"'{_topology.App.Command}' on http://{_server.Address}:{_topology.App.Port}/: {child?.State ?? "not started"}{db}");
        }
        // As /readyz: an app server that reaches no db server cannot serve the guestbook yet.
        var reachesDb = _db is null || _db.Reachable.Count > 0;
        return new("app", reachesDb ? RoleStates.Ready : RoleStates.Starting,
            $"{(_topology.App.Tls ? "https" : "http")}://{_server.Address}:{_topology.App.Port}/{db}{(reachesDb ? "" : "; waiting for a db server to answer")}");
    }

    public void ApplyTopology(Topology.Topology topology)
    {
    }
}
