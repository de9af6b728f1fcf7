using Foobar.Db.Accounts;
using Foobar.MySql;
using Foobar.Testing;

namespace Foobar.Data.Tests;

/// <summary>DbRouter against a real primary and replica kept by the real orchestrator.</summary>
public sealed class DbRouterTests
{
    [Fact]
    public async Task Write_GoesToThePrimary_ReadToTheReplica_WithItsGtid()
    {
        await using var cluster = await StartAsync();
        await using var router = Router(cluster);
        await Eventually.TrueAsync(() => router.Primary == "db1", "db1 discovered as the primary");

        var written = await router.WriteAsync((c, ct) => ExecuteAsync(c, "INSERT INTO t VALUES (1)", ct), CancellationToken.None);
        var read = await router.ReadAsync((c, ct) => CountAsync(c, ct), written.Gtid, CancellationToken.None);

        Assert.Equal("db1", written.ServedBy);
        Assert.Matches(@"^0-1-\d+$", written.Gtid);
        Assert.Equal("db2", read.ServedBy);
        Assert.Equal(1L, read.Value);
    }

    [Fact]
    public async Task ReadAfterWrite_ReplicaNotApplyingIt_GoesToThePrimary_OtherReadsStayOnTheReplica()
    {
        await using var cluster = await StartAsync();
        await using var router = Router(cluster);
        await Eventually.TrueAsync(() => router.Primary == "db1", "db1 discovered as the primary");
        // db2 receives but no longer applies: it lags behind the write that follows.
        await cluster.ExecuteAsync("db2", "STOP SLAVE SQL_THREAD");

        var written = await router.WriteAsync((c, ct) => ExecuteAsync(c, "INSERT INTO t VALUES (2)", ct), CancellationToken.None);
        var causal = await router.ReadAsync((c, ct) => CountAsync(c, ct), written.Gtid, CancellationToken.None);
        var stale = await router.ReadAsync((c, ct) => CountAsync(c, ct), null, CancellationToken.None);

        Assert.Equal(("db1", 1L), (causal.ServedBy, causal.Value));
        // Without the GTID a read may be stale: db2 (nothing applied) or, once its lag is unknown, db1.
        Assert.Equal(stale.ServedBy == "db1" ? 1L : 0L, stale.Value);
    }

    [Fact]
    public async Task WritesDuringASwitchover_AllSucceed_OnTheOldThenTheNewPrimary()
    {
        await using var cluster = await StartAsync();
        await using var router = Router(cluster);
        await Eventually.TrueAsync(() => router.Primary == "db1", "db1 discovered as the primary");
        var servedBy = new List<string>();
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            for (var i = 100; !stop.IsCancellationRequested; i++)
            {
                var v = i;
                servedBy.Add((await router.WriteAsync((c, ct) => ExecuteAsync(c, $"INSERT INTO t VALUES ({v})", ct), CancellationToken.None)).ServedBy);
            }
        });
        await Eventually.TrueAsync(() => servedBy.Count >= 20, "20 writes on db1");

        await cluster.Orchestrator.SwitchoverAsync("db2", CancellationToken.None);
        await Eventually.TrueAsync(() => servedBy.Count(s => s == "db2") >= 20, "20 writes on db2", TimeSpan.FromSeconds(30));
        await stop.CancelAsync();

        await writer; // no write failed: each refused by the demoted db1 was retried on db2
        Assert.Equal(servedBy.Count, Convert.ToInt64(await cluster.ScalarAsync("db2", "SELECT COUNT(*) FROM foobar.t WHERE v >= 100")));
    }

    [Fact]
    public async Task Write_NoWritableServer_FailsAfterTheRetryWindowWithAClearError()
    {
        await using var cluster = await StartAsync();
        await using var router = Router(cluster, retryWindow: TimeSpan.FromSeconds(1));
        await cluster.ExecuteAsync("db1", "SET GLOBAL read_only = 1");

        var e = await Assert.ThrowsAsync<DbUnavailableException>(() =>
            router.WriteAsync((c, ct) => ExecuteAsync(c, "INSERT INTO t VALUES (3)", ct), CancellationToken.None));

        Assert.Contains("no primary accepted the write within 1 s", e.Message);
    }

    [Fact]
    public async Task PrimaryChanged_LooksAgainAtOnce_WithoutWaitingForItsRefresh()
    {
        await using var cluster = await StartAsync();
        await using var router = Router(cluster, refresh: TimeSpan.FromHours(1));
        await Eventually.TrueAsync(() => router.Primary == "db1", "db1 discovered as the primary");
        await cluster.Orchestrator.SwitchoverAsync("db2", CancellationToken.None);
        Assert.Equal("db1", router.Primary); // its next refresh is an hour away

        Assert.Equal("db2", await router.PrimaryChangedAsync());
        Assert.Equal("db2", router.Primary);
    }

    private static async Task<TestCluster> StartAsync()
    {
        var cluster = await TestCluster.StartAsync(migrations: [new(1, "t", "CREATE TABLE t (v INT PRIMARY KEY)")]);
        await cluster.BootstrapAsync();
        return cluster;
    }

    /// <summary>A router as an app server has one: the application account, from its address.</summary>
    private static DbRouter Router(TestCluster cluster, TimeSpan? retryWindow = null, TimeSpan? refresh = null) => new(new DataOptions
    {
        Nodes = cluster.Nodes.Select(n => new DataNode(n.Name, n.Address, n.Port)).ToList(),
        User = DbCredentials.AppUser,
        Password = cluster.Credentials.AppPassword,
        Database = "foobar",
        LocalAddress = cluster.AppAddress,
        RefreshInterval = refresh ?? TimeSpan.FromMilliseconds(100),
        WriteRetryWindow = retryWindow ?? TimeSpan.FromSeconds(10),
    });

    private static async Task<int> ExecuteAsync(MySqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(sql, connection);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<long> CountAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand("SELECT COUNT(*) FROM t", connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }
}
