using Foobar.Db.Orchestration;
using Foobar.Testing;
using Foobar.MySql;

namespace Foobar.Db.Tests;

/// <summary>The orchestrator against real MariaDB servers: bootstrap, failover, rejoin, switchover, refusals.</summary>
public sealed class OrchestratorTests
{
    [Fact]
    public async Task Bootstrap_MakesDb1ThePrimaryAndReplicatesItsWrites()
    {
        await using var cluster = await TestCluster.StartAsync();

        await cluster.BootstrapAsync();
        await cluster.ExecuteAsync("db1", "CREATE DATABASE foobar; CREATE TABLE foobar.t (v INT PRIMARY KEY); INSERT INTO foobar.t VALUES (1); " +
            "CREATE USER ordinary@'%' IDENTIFIED BY 'pw'; GRANT INSERT ON foobar.* TO ordinary@'%'");
        await cluster.TickUntilAsync(_ => true, "tick");

        var db2 = cluster.Orchestrator.Statuses["db2"];
        Assert.True(db2.ReadOnly);
        Assert.Equal(cluster["db1"].Address.ToString(), db2.ReplicaOf);
        Assert.True(cluster.Orchestrator.Statuses["db1"] is { SemiSyncEnabled: true, SemiSyncActive: true, SemiSyncClients: 1 });
        // Semi-sync: the commit returned only after db2 had it, so it is readable there (once applied).
        await cluster.TickUntilAsync(_ => true, "tick");
        Assert.Equal(1L, Convert.ToInt64(await WaitForRowsAsync(cluster, "db2", 1)));
        var e = await Assert.ThrowsAsync<MySqlException>(() => ExecuteAsUserAsync(cluster, "db2"));
        Assert.Contains("read-only", e.Message);
    }

    [Fact]
    public async Task PrimaryKilledUnderWrites_ReplicaTakesOverWithEveryAcknowledgedWrite_AndTheOldPrimaryRejoins()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.BootstrapAsync();
        await cluster.ExecuteAsync("db1", "CREATE DATABASE foobar; CREATE TABLE foobar.t (v INT PRIMARY KEY)");
        var acknowledged = new List<int>();
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            for (var i = 1; !stop.IsCancellationRequested; i++)
            {
                try
                {
                    await cluster.ExecuteAsync("db1", $"INSERT INTO foobar.t VALUES ({i})");
                    acknowledged.Add(i);
                }
                catch (MySqlException)
                {
                    return;
                }
            }
        });
        await Foobar.Testing.Eventually.TrueAsync(() => acknowledged.Count >= 50, "50 acknowledged writes");

        await cluster.KillAsync("db1");
        await writer;
        await cluster.TickUntilAsync(o => o.State.Primary == "db2", "failover to db2");

        Assert.Equal(0L, Convert.ToInt64(await cluster.ScalarAsync("db2", "SELECT @@read_only")));
        var rows = Convert.ToInt64(await cluster.ScalarAsync("db2", "SELECT COUNT(*) FROM foobar.t WHERE v <= " + acknowledged[^1]));
        Assert.Equal(acknowledged.Count, rows);
        Assert.Contains(cluster.Events, e => e.StartsWith("failover: db1 is down; db2 is the primary", StringComparison.Ordinal));
        await cluster.ExecuteAsync("db2", "INSERT INTO foobar.t VALUES (-1)");

        await cluster.StartNodeAsync("db1");
        await cluster.TickUntilAsync(o => o.Statuses["db1"] is { ReplicaConnected: true, ReadOnly: true }, "db1 rejoins as a replica");
        Assert.Equal(1L, Convert.ToInt64(await WaitForScalarAsync(cluster, "db1", "SELECT COUNT(*) FROM foobar.t WHERE v = -1", 1L)));
        Assert.Null(cluster.Orchestrator.State.FormerPrimary);
        // db2 ran alone without semi-sync; with db1 caught up its commits wait for db1 again.
        await cluster.TickUntilAsync(o => o.Statuses["db2"].SemiSyncEnabled, "semi-sync back on db2");
        Assert.Contains(cluster.Events, e => e == "semi-sync on: db2's commits now wait for db1's acknowledgement");
    }

    [Fact]
    public async Task PrimaryUnreachableFromTheControlPlaneOnly_NoFailover()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.BootstrapAsync();

        // The control plane can no longer log in to db1; db2 still streams from it.
        await using (var sabotage = new MySqlConnection($"Server={cluster["db1"].Address};User ID=foobar_admin;Password={cluster.Credentials.AdminPassword};Local Address={cluster.ControlAddress};SslMode=None;Pooling=false"))
        {
            await sabotage.OpenAsync();
            await using var command = new MySqlCommand(
                $"SET sql_log_bin = 0; ALTER USER 'foobar_admin'@'{cluster.ControlAddress}' IDENTIFIED BY 'locked-out'; " +
                "SELECT GROUP_CONCAT(id) FROM information_schema.processlist WHERE user = 'foobar_admin' AND id <> CONNECTION_ID()", sabotage);
            var others = await command.ExecuteScalarAsync() as string ?? "";
            foreach (var id in others.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                await using var kill = new MySqlCommand($"KILL CONNECTION {id}", sabotage);
                await kill.ExecuteNonQueryAsync();
            }
        }
        await cluster.TickUntilAsync(o => o.Alerts.ContainsKey("db1"), "alert about db1");

        for (var i = 0; i < 5; i++)
        {
            await cluster.Orchestrator.TickAsync(CancellationToken.None);
        }
        Assert.Equal("db1", cluster.Orchestrator.State.Primary);
        Assert.Contains("still replicate from it; no failover", cluster.Orchestrator.Alerts["db1"]);
        Assert.True(cluster.Orchestrator.Statuses["db2"].ReadOnly);
    }

    [Fact]
    public async Task PrimaryDownWhenTheControlPlaneStarts_GetsTheStartupGrace_ThenFailsOver()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.BootstrapAsync();
        // Everything stopped and started again, db1 slower than db2: a new orchestrator finds db1 not answering.
        await cluster.KillAsync("db1");
        var patient = cluster.NewOrchestrator(options: new OrchestratorOptions { FailoverBlock = TimeSpan.Zero, StartupGrace = TimeSpan.FromHours(1) });

        for (var i = 0; i < 6; i++)
        {
            await patient.TickAsync(CancellationToken.None);
        }
        var alert = patient.Alerts["db1"];
        var impatient = cluster.NewOrchestrator(options: new OrchestratorOptions { FailoverBlock = TimeSpan.Zero, StartupGrace = TimeSpan.Zero });
        for (var i = 0; i < 40 && impatient.State.Primary != "db2"; i++)
        {
            await impatient.TickAsync(CancellationToken.None);
            await Task.Delay(50);
        }

        Assert.Equal("db1", patient.State.Primary);
        Assert.Contains("has not answered since the control plane started", alert);
        Assert.Contains("failover only if it is not up within 3600 s", alert);
        Assert.Equal("db2", impatient.State.Primary);
    }

    [Fact]
    public async Task EveryServerSilentWhenTheControlPlaneStarts_IsAStart_NotAMissingReplica()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.BootstrapAsync();
        // `foobar up`: the control plane probes before either db server answers.
        await cluster.KillAsync("db1");
        await cluster.KillAsync("db2");
        var clock = new FakeTimeProvider();
        var starting = cluster.NewOrchestrator(options: new OrchestratorOptions { StartupGrace = TimeSpan.FromHours(1) }, time: clock);

        for (var i = 0; i < 4; i++)
        {
            await starting.TickAsync(CancellationToken.None);
            clock.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal("db1", starting.State.Primary);
        Assert.Contains("has not answered since the control plane started", starting.Alerts["db1"]);
        Assert.DoesNotContain(cluster.Events, e => e.Contains("no replica is reachable"));
        // Logged once, not once a second while the grace lasts (its text counted the seconds).
        Assert.Single(cluster.Events, e => e.Contains("has not answered since the control plane started"));
    }

    [Fact]
    public async Task Switchover_MovesThePrimaryWithNothingLost()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.BootstrapAsync();
        await cluster.ExecuteAsync("db1", "CREATE DATABASE foobar; CREATE TABLE foobar.t (v INT PRIMARY KEY); INSERT INTO foobar.t VALUES (1), (2)");

        var message = await cluster.Orchestrator.SwitchoverAsync("db2", CancellationToken.None);

        Assert.StartsWith("switchover: db2 is the primary (was db1)", message);
        Assert.Equal("db2", cluster.Orchestrator.State.Primary);
        await cluster.ExecuteAsync("db2", "INSERT INTO foobar.t VALUES (3)");
        await cluster.TickUntilAsync(o => o.Statuses["db1"] is { ReplicaConnected: true, ReadOnly: true }, "db1 replicates from db2");
        Assert.Equal(3L, Convert.ToInt64(await WaitForRowsAsync(cluster, "db1", 3)));
        var again = await Assert.ThrowsAsync<InvalidOperationException>(() => cluster.Orchestrator.SwitchoverAsync("db2", CancellationToken.None));
        Assert.Contains("is the primary already", again.Message);
        var unknown = await Assert.ThrowsAsync<InvalidOperationException>(() => cluster.Orchestrator.SwitchoverAsync("db9", CancellationToken.None));
        Assert.Contains("no db server 'db9'", unknown.Message);
    }

    [Fact]
    public async Task Failover_PromotesTheMostAdvancedReplica_AndRepointsTheOther()
    {
        await using var cluster = await TestCluster.StartAsync(size: 3);
        await cluster.BootstrapAsync();
        await cluster.ExecuteAsync("db1", "CREATE DATABASE foobar; CREATE TABLE foobar.t (v INT PRIMARY KEY); INSERT INTO foobar.t VALUES (1)");
        await WaitForRowsAsync(cluster, "db2", 1);
        // db2 falls behind: it stops receiving; db3 keeps acknowledging.
        await cluster.ExecuteAsync("db2", "STOP SLAVE IO_THREAD");
        await cluster.ExecuteAsync("db1", "INSERT INTO foobar.t VALUES (2), (3)");
        await WaitForRowsAsync(cluster, "db3", 3);

        await cluster.KillAsync("db1");
        await cluster.TickUntilAsync(o => o.State.Primary != "db1", "failover");

        Assert.Equal("db3", cluster.Orchestrator.State.Primary);
        await cluster.TickUntilAsync(o => o.Statuses["db2"] is { ReplicaConnected: true } s && s.ReplicaOf == cluster["db3"].Address.ToString(), "db2 follows db3");
        Assert.Equal(3L, Convert.ToInt64(await WaitForRowsAsync(cluster, "db2", 3)));
    }

    [Fact]
    public async Task SecondFailoverWithinTheBlock_IsRefusedWithAnAlert()
    {
        await using var cluster = await TestCluster.StartAsync(size: 3, options: new Foobar.Db.Orchestration.OrchestratorOptions { FailoverBlock = TimeSpan.FromHours(1) });
        await cluster.BootstrapAsync();
        await cluster.KillAsync("db1");
        await cluster.TickUntilAsync(o => o.State.Primary != "db1", "first failover");
        var primary = cluster.Orchestrator.State.Primary;
        await cluster.TickUntilAsync(o => o.Statuses.Values.Any(s => s.Name != primary && s.ReplicaConnected) && o.Statuses[primary].SemiSyncEnabled, "the other replica follows");

        await cluster.KillAsync(primary);
        await cluster.TickUntilAsync(o => o.Alerts.ContainsKey(primary), $"alert about {primary}");

        Assert.Equal(primary, cluster.Orchestrator.State.Primary);
        Assert.Contains("the last failover was", cluster.Orchestrator.Alerts[primary]);
        Assert.Single(cluster.Events, e => e.StartsWith("failover:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task LonePrimaryKilledAndRestarted_KeepsEveryAcknowledgedWrite()
    {
        // No replica: semi-sync is off, so crash recovery must keep what InnoDB had only prepared
        // (binlog group commit acknowledges before InnoDB's commit record is on disk).
        await using var cluster = await TestCluster.StartAsync(size: 1, migrations: [new(1, "t", "CREATE TABLE t (v INT PRIMARY KEY)")]);
        await cluster.BootstrapAsync();
        for (var i = 1; i <= 20; i++)
        {
            await cluster.ExecuteAsync("db1", $"INSERT INTO foobar.t VALUES ({i})");
        }

        await cluster.KillAsync("db1");
        await cluster.StartNodeAsync("db1");
        await cluster.TickUntilAsync(o => o.Statuses["db1"] is { Reachable: true, ReadOnly: false }, "db1 writable again");

        Assert.Equal(20L, Convert.ToInt64(await cluster.ScalarAsync("db1", "SELECT COUNT(*) FROM foobar.t")));
        Assert.Equal("db1", cluster.Orchestrator.State.Primary);
    }

    [Fact]
    public async Task HungPrimary_IsReplaced_AndWhenItWakesWithWritesOfItsOwn_IsKeptOutReadOnly()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.BootstrapAsync();
        await cluster.ExecuteAsync("db1", "CREATE DATABASE foobar; CREATE TABLE foobar.t (v INT PRIMARY KEY); INSERT INTO foobar.t VALUES (1)");
        await WaitForRowsAsync(cluster, "db2", 1);

        // db1 hangs: the control plane's probes time out, and db2's replication gives up on it
        // after slave_net_timeout, which confirms it is gone.
        await cluster.SignalAsync("db1", "STOP");
        await cluster.TickUntilAsync(o => o.State.Primary == "db2", "failover to db2 from a hung db1");

        // It wakes up still writable and a client writes to it before the orchestrator looks again.
        await cluster.SignalAsync("db1", "CONT");
        await using (var direct = new MySqlConnection($"Server={cluster["db1"].Address};User ID=foobar_admin;Password={cluster.Credentials.AdminPassword};Local Address={cluster.ControlAddress};SslMode=None;Pooling=false"))
        {
            await direct.OpenAsync();
            await using var split = new MySqlCommand("INSERT INTO foobar.t VALUES (2)", direct);
            await split.ExecuteNonQueryAsync();
        }
        await cluster.TickUntilAsync(o => o.Alerts.ContainsKey("db1"), "alert about db1");

        Assert.Contains("db1 is kept out: it has transactions db2 never received", cluster.Orchestrator.Alerts["db1"]);
        Assert.Equal(1L, Convert.ToInt64(await cluster.ScalarAsync("db1", "SELECT @@read_only")));
        Assert.Null(cluster.Orchestrator.Statuses["db1"].ReplicaOf);
        Assert.Equal("db2", cluster.Orchestrator.State.Primary);
    }

    [Fact]
    public async Task HungPrimary_WakingWithAClientCommitWaitingForAnAcknowledgement_IsFenced_AndTheClientIsNeverToldItSucceeded()
    {
        // A long semi-sync timeout: the woken db1 would acknowledge the commit only after 30 s.
        await using var cluster = await TestCluster.StartAsync(migrations: [new(1, "t", "CREATE TABLE t (v INT PRIMARY KEY)")], semiSyncTimeout: TimeSpan.FromSeconds(30));
        await cluster.BootstrapAsync();
        await cluster.TickUntilAsync(o => o.Statuses["db1"].SemiSyncActive, "semi-sync on db1");
        await cluster.SignalAsync("db1", "STOP");
        await cluster.TickUntilAsync(o => o.State.Primary == "db2", "failover to db2 from a hung db1");
        await cluster.SignalAsync("db1", "CONT");

        // An application session on db1 commits before the orchestrator looks again; the commit
        // waits for an acknowledgement no replica will send.
        await using var app = new MySqlConnection($"Server={cluster["db1"].Address};User ID=foobar_app;Password={cluster.Credentials.AppPassword};Database=foobar;" +
            $"Local Address={cluster.AppAddress};SslMode=None;Pooling=false");
        await app.OpenAsync();
        var write = Task.Run(async () =>
        {
            await using var insert = new MySqlCommand("INSERT INTO t VALUES (2)", app);
            return await insert.ExecuteNonQueryAsync();
        });
        await WaitForScalarAsync(cluster, "db1", "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'foobar_app' AND STATE LIKE '%semi-sync%'", 1);
        Assert.False(write.IsCompleted);

        await cluster.TickUntilAsync(o => o.Alerts.ContainsKey("db1"), "db1 fenced and kept out");

        var e = await Assert.ThrowsAsync<MySqlException>(() => write);
        Assert.True(e.IsTransient, e.Message);
        Assert.Equal(1L, Convert.ToInt64(await cluster.ScalarAsync("db1", "SELECT @@read_only")));
        Assert.Contains(cluster.Events, l => l.StartsWith("db1 was writable although db2 is the primary: fenced", StringComparison.Ordinal));
        Assert.Contains("db1 is kept out", cluster.Orchestrator.Alerts["db1"]);
    }

    [Fact]
    public async Task PrimaryDownAfterCommittingWithoutAcknowledgement_NoAutomaticFailover()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.BootstrapAsync();
        await cluster.ExecuteAsync("db2", "STOP SLAVE");
        // With no replica the commit waits the semi-sync timeout (1 s here), then is acknowledged anyway.
        await cluster.ExecuteAsync("db1", "CREATE DATABASE foobar");
        await cluster.TickUntilAsync(o => !o.Statuses["db1"].SemiSyncActive, "semi-sync off on db1");

        await cluster.KillAsync("db1");
        await cluster.TickUntilAsync(o => o.Alerts.ContainsKey("db1"), "alert about db1");

        Assert.Equal("db1", cluster.Orchestrator.State.Primary);
        Assert.Contains("without a replica's acknowledgement", cluster.Orchestrator.Alerts["db1"]);
    }

    /// <summary>A write on <paramref name="name"/> by an ordinary user (created on the primary, replicated).</summary>
    private static async Task ExecuteAsUserAsync(TestCluster cluster, string name)
    {
        await using var connection = new MySqlConnection($"Server={cluster[name].Address};User ID=ordinary;Password=pw;SslMode=None;Pooling=false");
        await connection.OpenAsync();
        await using var command = new MySqlCommand("INSERT INTO foobar.t VALUES (99)", connection);
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task ReplicaThatCannotConnect_IsAnAlertNamingTheCause_AndClearsWhenItCanAgain()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.BootstrapAsync();
        var hosts = await ReplicationHostsAsync(cluster);

        // The primary no longer accepts db2's replication password (changed there only).
        await cluster.ExecuteAsync("db1", "SET SESSION sql_log_bin = 0; " + string.Concat(hosts.Select(h => $"ALTER USER foobar_repl@'{h}' IDENTIFIED BY 'not-the-password'; ")));
        await cluster.ExecuteAsync("db2", "STOP SLAVE; START SLAVE");
        await cluster.TickUntilAsync(o => o.Alerts.ContainsKey("db2"), "alert about db2");

        Assert.Contains("db2 cannot replicate from db1", cluster.Orchestrator.Alerts["db2"]);
        Assert.Contains("Access denied", cluster.Orchestrator.Alerts["db2"]);
        Assert.Equal("db1", cluster.Orchestrator.State.Primary);

        await cluster.ExecuteAsync("db1", "SET SESSION sql_log_bin = 0; " + string.Concat(hosts.Select(h => $"ALTER USER foobar_repl@'{h}' IDENTIFIED BY '{cluster.Credentials.ReplicationPassword}'; ")));
        await cluster.TickUntilAsync(o => !o.Alerts.ContainsKey("db2") && o.Statuses["db2"].ReplicaConnected, "db2 replicating again");
    }

    [Fact]
    public async Task Probe_ReportsTheDataDisk_AndLessFreeThanTheReserveIsAnAlert()
    {
        await using var cluster = await TestCluster.StartAsync(options: new() { FailoverBlock = TimeSpan.Zero, DiskReserve = 1L << 60 });
        await cluster.BootstrapAsync();

        var db1 = cluster.Orchestrator.Statuses["db1"];
        Assert.EndsWith("/db1/data/", db1.DataPath);
        var drive = new DriveInfo(db1.DataPath!);
        Assert.Equal(drive.TotalSize, db1.DiskTotalBytes);
        Assert.InRange(db1.DiskFreeBytes!.Value, 1, db1.DiskTotalBytes!.Value);
        foreach (var name in new[] { "db1", "db2" })
        {
            var alert = cluster.Orchestrator.Alerts[name + Orchestration.Orchestrator.DiskAlertSuffix];
            Assert.Contains($"{name} has ", alert);
            Assert.Contains("less than disk_reserve", alert);
            Assert.Contains($"/{name}/data/", alert);
        }

        // The same disk with the default reserve (1 GB): nothing to say.
        var relaxed = cluster.NewOrchestrator();
        await relaxed.TickAsync(CancellationToken.None);
        Assert.DoesNotContain(relaxed.Alerts.Keys, k => k.EndsWith(Orchestration.Orchestrator.DiskAlertSuffix, StringComparison.Ordinal));
    }

    private static async Task<List<string>> ReplicationHostsAsync(TestCluster cluster)
    {
        await using var connection = await cluster.Admin.OpenAsync(cluster["db1"], CancellationToken.None);
        await using var command = new MySqlCommand("SELECT Host FROM mysql.user WHERE User = 'foobar_repl'", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var hosts = new List<string>();
        while (await reader.ReadAsync())
        {
            hosts.Add(reader.GetString(0));
        }
        Assert.NotEmpty(hosts);
        return hosts;
    }

    private static Task<object?> WaitForRowsAsync(TestCluster cluster, string name, long rows) =>
        WaitForScalarAsync(cluster, name, "SELECT COUNT(*) FROM foobar.t", rows);

    private static async Task<object?> WaitForScalarAsync(TestCluster cluster, string name, string sql, long expected)
    {
        object? value = null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            try
            {
                value = await cluster.ScalarAsync(name, sql);
                if (Convert.ToInt64(value) == expected)
                {
                    return value;
                }
            }
            catch (MySqlException)
            {
            }
            await Task.Delay(20);
        }
        return value;
    }
}
