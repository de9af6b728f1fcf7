using System.Diagnostics;
using System.Net;
using Foobar.Db;
using Foobar.Db.Accounts;
using Foobar.Db.Cluster;
using Foobar.Db.Orchestration;
using Foobar.Db.Schema;
using Foobar.MySql;

namespace Foobar.Testing;

/// <summary>
/// Real mariadbd servers started as the db role starts them (cluster options, account script),
/// an admin from the control address, and an orchestrator the test ticks by hand.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    private static int _clusters;
    private readonly string _dir = Directory.CreateTempSubdirectory("foobar-cluster-").FullName;
    private readonly Dictionary<string, MariaDbInstance> _instances = [];
    private readonly string _block;
    private readonly TimeSpan _semiSyncTimeout;

    private TestCluster(int size, OrchestratorOptions options, IReadOnlyList<Migration>? migrations, TimeSpan semiSyncTimeout)
    {
        _semiSyncTimeout = semiSyncTimeout;
        var n = Interlocked.Increment(ref _clusters);
        _block = $"127.{50 + Environment.ProcessId % 50}.{200 + n}";
        Nodes = Enumerable.Range(1, size).Select(i => new DbNode($"db{i}", IPAddress.Parse($"{_block}.{i}"), 3306)).ToList();
        ControlAddress = IPAddress.Parse($"{_block}.254");
        AppAddress = IPAddress.Parse($"{_block}.100");
        Credentials = DbCredentials.LoadOrCreate(Path.Combine(_dir, "db.json"));
        Admin = new ClusterAdmin(Credentials, ControlAddress);
        Orchestrator = new Orchestrator(Nodes, "db1", Admin, options, Path.Combine(_dir, "cluster.json"), TimeProvider.System, Events.Add, migrations);
    }

    public IReadOnlyList<DbNode> Nodes { get; }

    public IPAddress ControlAddress { get; }

    /// <summary>Where the application account may connect from (as an app server would).</summary>
    public IPAddress AppAddress { get; }

    public DbCredentials Credentials { get; }

    public ClusterAdmin Admin { get; }

    public Orchestrator Orchestrator { get; }

    public List<string> Events { get; } = [];

    public string StateFile => Path.Combine(_dir, "cluster.json");

    public DbNode this[string name] => Nodes.Single(n => n.Name == name);

    /// <summary>Starts <paramref name="size"/> servers; commits wait <paramref name="semiSyncTimeout"/> (default 1 s) for an acknowledgement.</summary>
    public static async Task<TestCluster> StartAsync(int size = 2, OrchestratorOptions? options = null, IReadOnlyList<Migration>? migrations = null, TimeSpan? semiSyncTimeout = null)
    {
        var cluster = new TestCluster(size, options ?? new OrchestratorOptions { FailoverBlock = TimeSpan.Zero }, migrations, semiSyncTimeout ?? TimeSpan.FromSeconds(1));
        try
        {
            await Task.WhenAll(cluster.Nodes.Select(n => cluster.StartNodeAsync(n.Name)));
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public async Task StartNodeAsync(string name)
    {
        var node = this[name];
        var directory = Path.Combine(_dir, name);
        Directory.CreateDirectory(directory);
        var initFile = Path.Combine(directory, "init.sql");
        await File.WriteAllTextAsync(initFile, AccountScript.For(new AccountPlan("foobar", [AppAddress], Nodes.Select(n => n.Address).ToList(), ControlAddress), Credentials));
        var options = new MariaDbOptions
        {
            Directory = directory,
            Address = node.Address,
            ServerId = Nodes.ToList().IndexOf(node) + 1,
            // As the db role does: crash recovery drops an unacknowledged tail only on a replaced primary.
            ExtraArguments = [.. ReplicationArguments.For(node.Address, _semiSyncTimeout, initFile,
                recoverAsReplica: ClusterState.Load(StateFile) is { } state && state.Primary != name), "--innodb-buffer-pool-size=32M"],
        };
        await MariaDbInstance.InitializeAsync(options);
        _instances[name] = await MariaDbInstance.StartAsync(options);
    }

    public Task KillAsync(string name) => _instances[name].KillAsync();

    /// <summary>SIGSTOP or SIGCONT to a server's mariadbd: a hang, as a frozen host would be.</summary>
    public async Task SignalAsync(string name, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", _instances[name].Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    /// <summary>A second orchestrator over the same servers and state file, as after a control plane restart.</summary>
    public Orchestrator NewOrchestrator(IReadOnlyList<Migration>? migrations = null, OrchestratorOptions? options = null, TimeProvider? time = null) =>
        new(Nodes, "db1", Admin, options ?? new OrchestratorOptions { FailoverBlock = TimeSpan.Zero }, StateFile, time ?? TimeProvider.System, Events.Add, migrations);

    /// <summary>Ticks the orchestrator until <paramref name="condition"/> holds on a fresh probe (30 s at most).</summary>
    public async Task TickUntilAsync(Func<Orchestrator, bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            await Orchestrator.TickAsync(CancellationToken.None);
            if (condition(Orchestrator))
            {
                return;
            }
            if (clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"{what} did not happen within 30 s; events:\n{string.Join('\n', Events)}\nstatuses:\n{string.Join('\n', Orchestrator.Statuses.Values)}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>Ticks until db1 is the writable primary with semi-sync on and every other server streams from it.</summary>
    public Task BootstrapAsync() => TickUntilAsync(o =>
        o.Statuses.Values.All(s => s.Name == o.State.Primary ? !s.ReadOnly && (s.SemiSyncEnabled || Nodes.Count == 1) : s.ReplicaConnected && s.SqlRunning == "Yes"),
        "replication set up");

    public async Task<object?> ScalarAsync(string name, string sql)
    {
        await using var connection = await Admin.OpenAsync(this[name], CancellationToken.None);
        await using var command = new MySqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    public async Task ExecuteAsync(string name, string sql) => await Admin.ExecuteAsync(this[name], sql, CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await Admin.DisposeAsync();
        await Task.WhenAll(_instances.Values.Select(i => i.DisposeAsync().AsTask()));
        Directory.Delete(_dir, recursive: true);
    }
}
