using System.Globalization;
using Foobar.ControlPlane.Database;

namespace Foobar.EndToEnd.Tests;

/// <summary>The database tier of the default topology: real MariaDB under the real control plane.</summary>
public sealed class DatabaseTierTests : IAsyncLifetime
{
    private readonly RunningTopology _topology = new();

    public Task InitializeAsync() => _topology.InitializeAsync();

    public Task DisposeAsync() => _topology.DisposeAsync();

    [Fact]
    public async Task KillThePrimary_ReplicaTakesOver_OldPrimaryRejoins_SwitchoverMovesItBack()
    {
        await UntilAsync(s => s.Primary == "db1" && Server(s, "db2") is { Role: "replica", Replication: "IO Yes, SQL Yes" }, "replication db1 → db2");

        Assert.True((await _topology.CliAsync("kill", "db1")).ExitCode == 0);
        var afterKill = await UntilAsync(s => s.Primary == "db2" && Server(s, "db2").ReadOnly == false, "failover to db2");
        Assert.Equal(1, afterKill.Epoch);
        Assert.Equal("unreachable", Server(afterKill, "db1").Role);
        // The app servers were told, and looked: both see db2.
        var events = Path.Combine(_topology.StateDirectory, "events.log");
        await Poll.UntilAsync(() => File.ReadAllTextAsync(events), text => text.Contains("told the app servers db2 is the primary; they see: app1 db2, app2 db2", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), "the app servers told of db2");

        Assert.True((await _topology.CliAsync("start", "db1")).ExitCode == 0);
        await UntilAsync(s => Server(s, "db1") is { Role: "replica", ReadOnly: true, ReplicaOf: "db2", Replication: "IO Yes, SQL Yes" }, "db1 rejoins as db2's replica");

        var switchover = await _topology.CliAsync("db", "switchover", "--to", "db1");
        Assert.True(switchover.ExitCode == 0, switchover.Output);
        Assert.Contains("db1 is the primary (was db2)", switchover.Output);
        var after = await UntilAsync(s => Server(s, "db2") is { Role: "replica", ReplicaOf: "db1", Replication: "IO Yes, SQL Yes" }, "db2 replicates from db1");
        Assert.Equal("db1", after.Primary);
        Assert.Equal(2, after.Epoch);
        Assert.Empty(after.Alerts);
        Assert.All(after.Servers, server => Assert.True(server.DiskFreeBytes > 0, $"{server.Name}: disk free {server.DiskFreeBytes}"));

        var unknown = await _topology.CliAsync("db", "switchover", "--to", "db9");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no db server 'db9'", unknown.Output);
    }

    [Fact]
    public async Task DbServerProcessKilledAlone_TakesItsMariadbdWithIt()
    {
        await UntilAsync(s => Server(s, "db2") is { Role: "replica" }, "db2 up");
        var server = int.Parse(File.ReadAllText(Path.Combine(_topology.StateDirectory, "pids", "db2.pid")).Split(' ')[0], CultureInfo.InvariantCulture);
        var mariadbd = int.Parse(File.ReadAllText(Path.Combine(_topology.StateDirectory, "db", "db2", "mariadbd.pid")).Trim(), CultureInfo.InvariantCulture);
        Assert.True(ProcessState.IsRunning(mariadbd));

        // SIGKILL to the server process only, not its group: nothing of it may be left to take writes.
        Signal.Send(server, 9);

        await Poll.UntilAsync(() => Task.FromResult(ProcessState.IsRunning(mariadbd)), running => !running, TimeSpan.FromSeconds(10), $"mariadbd {mariadbd} gone");
        // The supervisor restarts db2, and it replicates again.
        await UntilAsync(s => Server(s, "db2") is { Role: "replica", Replication: "IO Yes, SQL Yes" }, "db2 back as a replica");
    }

    [Fact]
    public async Task Accounts_PasswordsAreGeneratedOwnerOnly()
    {
        await UntilAsync(s => s.Primary == "db1", "db up");
        var secrets = Path.Combine(_topology.StateDirectory, "secrets", "db.json");

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(secrets));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_topology.StateDirectory, "db", "db1", "init.sql")));
    }

    private static DbServerStatus Server(DbStatusReport report, string name) => report.Servers.Single(s => s.Name == name);

    private Task<DbStatusReport> UntilAsync(Func<DbStatusReport, bool> done, string what) =>
        Poll.UntilAsync(_topology.DbStatusAsync, done, TimeSpan.FromSeconds(60), what);
}
