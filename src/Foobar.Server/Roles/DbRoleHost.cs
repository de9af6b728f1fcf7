using System.Net;
using Foobar.Db;
using Foobar.Db.Accounts;
using Foobar.Db.Orchestration;
using Foobar.Db.Schema;
using Foobar.Server.Admin;
using Foobar.Topology;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Foobar.Server.Roles;

/// <summary>
/// The db role: initializes the data directory on first start, writes the account script, runs
/// mariadbd as this server's child on its address, and stops it with the server. mariadbd always
/// starts read-only; the control plane's orchestrator decides which server is the primary.
/// </summary>
internal sealed class DbRoleHost(Topology.Topology topology, ServerSpec server, ServerPaths paths, ILogger logger) : IRoleHost
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(30);

    private volatile RoleHealth _health = new("db", RoleStates.Starting, "initializing");

    public Role Role => Role.Db;

    public IReadOnlyList<int> Ports => [];

    public void Listen(KestrelServerOptions kestrel)
    {
    }

    public void Configure(IApplicationBuilder app)
    {
    }

    public RoleHealth Health() => _health;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var options = Options();
        var credentials = DbCredentials.LoadOrCreate(paths.DbCredentialsFile);
        Directory.CreateDirectory(options.Directory);
        SecretFile.Write(InitFile, AccountScript.For(AccountPlanOf(topology), credentials));
        if (await MariaDbInstance.InitializeAsync(options, cancellationToken).ConfigureAwait(false))
        {
            logger.LogInformation("initialized {DataDirectory}", options.DataDirectory);
        }
        _health = new("db", RoleStates.Starting, "mariadbd starting");
        await using var instance = await MariaDbInstance.StartAsync(options, cancellationToken).ConfigureAwait(false);
        logger.LogInformation("mariadbd pid {Pid} serving {Address}:{Port}", instance.Pid, options.Address, options.Port);
        _health = new("db", RoleStates.Ready, $"mariadbd pid {instance.Pid} on {options.Address}:{options.Port}");
        await Task.WhenAny(instance.Exited, Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false);
        if (!cancellationToken.IsCancellationRequested)
        {
            throw new MariaDbException($"mariadbd exited on its own{instance.ErrorLogExcerpt()}");
        }
        _health = new("db", RoleStates.Starting, "mariadbd stopping");
        await instance.StopAsync(StopGrace).ConfigureAwait(false);
    }

    private MariaDbOptions Options()
    {
        return new MariaDbOptions
        {
            Directory = paths.DbDirectory(server.Name),
            Address = server.Address,
            Port = topology.Db.Port,
            ServerId = ServerIdOf(server.Address),
            ExtraArguments = ReplicationArguments.For(server.Address, topology.Db.SemiSyncTimeout, InitFile, ReplacedAsPrimary()),
        };
    }

    /// <summary>
    /// Whether the orchestrator's record (<c>STATE/db/cluster.json</c>) names another server as the
    /// primary: this one was replaced and will rejoin as a replica. Unreadable or absent: false,
    /// which keeps every transaction (at worst the server is kept out, never a write lost).
    /// </summary>
    private bool ReplacedAsPrimary()
    {
        try
        {
            return ClusterState.Load(paths.ClusterStateFile) is { } state && state.Primary != server.Name;
        }
        catch (InvalidDataException)
        {
            return false;
        }
    }

    /// <summary>The account script mariadbd runs at every start (<c>--init-file</c>).</summary>
    private string InitFile => Path.Combine(paths.DbDirectory(server.Name), "init.sql");

    /// <summary>The account plan of <paramref name="topology"/>: app servers, db servers, the control plane.</summary>
    private static AccountPlan AccountPlanOf(Topology.Topology topology) => new(
        DbSchema.Name,
        AppHostsOf(topology),
        topology.ServersWith(Role.Db).Select(s => s.Address).ToList(),
        topology.ControlAddress);

    /// <summary>
    /// The app servers' addresses. With an application of your own (<c>app.command</c>) on
    /// loopback also 127.0.0.1: its connections come from there unless its client library can bind
    /// the server's own address (the mariadb command line client cannot), and on one machine the
    /// address says nothing about which server it is anyway.
    /// </summary>
    private static List<IPAddress> AppHostsOf(Topology.Topology topology)
    {
        var hosts = topology.ServersWith(Role.App).Select(s => s.Address).ToList();
        if (topology.App.Command is not null && hosts.Count > 0 && hosts.All(IPAddress.IsLoopback) && !hosts.Contains(IPAddress.Loopback))
        {
            hosts.Add(IPAddress.Loopback);
        }
        return hosts;
    }

    /// <summary>The server's IPv4 address as a number: unique in the topology and stable across restarts.</summary>
    private static int ServerIdOf(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        // server_id is unsigned 32-bit; keep it positive and non-zero with the low 31 bits.
        return (int)((uint)(bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]) & 0x7FFF_FFFF);
    }

    public void ApplyTopology(Topology.Topology topology)
    {
    }
}
