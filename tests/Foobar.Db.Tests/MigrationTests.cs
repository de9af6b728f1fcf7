using Foobar.Testing;
using Foobar.Db.Schema;

namespace Foobar.Db.Tests;

public sealed class MigrationTests
{
    private static readonly Migration[] Schema =
    [
        new(1, "entries", "CREATE TABLE entries (id BIGINT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(100) NOT NULL)"),
        new(2, "entries.author", "ALTER TABLE entries ADD COLUMN author VARCHAR(50) NOT NULL DEFAULT ''"),
    ];

    [Fact]
    public async Task Bootstrap_AppliesMigrationsOnThePrimaryOnce_AndTheyReplicate()
    {
        await using var cluster = await TestCluster.StartAsync(migrations: Schema);
        await cluster.BootstrapAsync();

        Assert.Contains("migration 1 (entries) applied on db1", cluster.Events);
        Assert.Contains("migration 2 (entries.author) applied on db1", cluster.Events);
        await cluster.TickUntilAsync(_ => true, "tick");
        // A restarted control plane finds the schema current and applies nothing.
        var restarted = cluster.NewOrchestrator(Schema);
        await restarted.TickAsync(CancellationToken.None);
        Assert.Equal(2, cluster.Events.Count(e => e.StartsWith("migration ", StringComparison.Ordinal)));
        Assert.Equal(2L, Convert.ToInt64(await cluster.ScalarAsync("db1", "SELECT COUNT(*) FROM foobar.schema_migrations")));
        await cluster.ExecuteAsync("db1", "INSERT INTO foobar.entries (body, author) VALUES ('hi', 'ann')");
        await cluster.TickUntilAsync(_ => true, "tick");
        await Foobar.Testing.Eventually.TrueAsync(() => ReplicaHasAuthorColumn(cluster), "db2 has the migrated table", TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Apply_VersionsOutOfOrder_IsRefusedBeforeAnythingRuns()
    {
        await using var cluster = await TestCluster.StartAsync(size: 1);
        await cluster.BootstrapAsync();
        await using var connection = await cluster.Admin.OpenAsync(cluster["db1"], CancellationToken.None);

        var e = await Assert.ThrowsAsync<ArgumentException>(() => MigrationRunner.ApplyAsync(connection, [Schema[1]], CancellationToken.None));

        Assert.Contains("has version 2, expected 1", e.Message);
    }

    [Fact]
    public async Task Apply_FailingMigration_NamesItAndKeepsTheOnesBefore()
    {
        await using var cluster = await TestCluster.StartAsync(size: 1);
        await cluster.BootstrapAsync();
        await using var connection = await cluster.Admin.OpenAsync(cluster["db1"], CancellationToken.None);

        var e = await Assert.ThrowsAsync<Foobar.MySql.MySqlException>(() => MigrationRunner.ApplyAsync(connection,
            [Schema[0], new Migration(2, "broken", "ALTER TABLE nowhere ADD COLUMN x INT")], CancellationToken.None));

        Assert.Contains("migration 2 (broken) failed", e.Message);
        Assert.Equal(1L, Convert.ToInt64(await cluster.ScalarAsync("db1", "SELECT MAX(version) FROM foobar.schema_migrations")));
    }

    private static bool ReplicaHasAuthorColumn(TestCluster cluster)
    {
        try
        {
            return Convert.ToInt64(cluster.ScalarAsync("db2", "SELECT COUNT(*) FROM foobar.entries WHERE author = 'ann'").GetAwaiter().GetResult()) == 1;
        }
        catch (Foobar.MySql.MySqlException)
        {
            return false;
        }
    }
}
