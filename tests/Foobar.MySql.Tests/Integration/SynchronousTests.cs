using System.Diagnostics;
using Dapper;

namespace Foobar.MySql.Tests.Integration;

/// <summary>
/// The synchronous ADO.NET methods with blocking socket calls (a connection opened with
/// <c>Open()</c>): the same results, timeouts and cancellation as the asynchronous ones.
/// </summary>
public class SynchronousTests(MariaDbFixture db) : IClassFixture<MariaDbFixture>
{
    [Fact]
    public void OpenReadAndNextResult_Synchronously_ReturnEveryRow()
    {
        using var connection = Open();
        using var command = new MySqlCommand("SELECT seq FROM seq_1_to_1000; SELECT 'second'", connection);
        using var reader = command.ExecuteReader();
        long sum = 0;
        while (reader.Read())
        {
            sum += reader.GetInt64(0);
        }

        Assert.Equal(500_500, sum);
        Assert.True(reader.NextResult());
        Assert.True(reader.Read());
        Assert.Equal("second", reader.GetString(0));
        Assert.False(reader.NextResult());
    }

    [Fact]
    public void LargeRowsAndParameters_Synchronously_RoundTrip()
    {
        using var connection = Open();
        var blob = new byte[3 * 1024 * 1024];
        Random.Shared.NextBytes(blob);
        using var command = new MySqlCommand("SELECT @blob, LENGTH(@blob)", connection);
        command.Parameters.AddWithValue("@blob", blob);
        using var reader = command.ExecuteReader();

        Assert.True(reader.Read());
        Assert.Equal(blob, reader.GetFieldValue<byte[]>(0));
        Assert.Equal(blob.Length, reader.GetInt64(1));
    }

    [Fact]
    public void Transaction_Synchronously_CommitsAndRollsBack()
    {
        using var connection = Open();
        connection.Execute("CREATE TEMPORARY TABLE t (v INT)");
        using (var committed = connection.BeginTransaction())
        {
            connection.Execute("INSERT INTO t VALUES (1)", transaction: committed);
            committed.Commit();
        }
        using (var rolledBack = connection.BeginTransaction())
        {
            connection.Execute("INSERT INTO t VALUES (2)", transaction: rolledBack);
            rolledBack.Rollback();
        }

        Assert.Equal([1], connection.Query<int>("SELECT v FROM t"));
    }

    [Fact]
    public void CommandTimeout_Synchronously_StopsTheQueryAndKeepsTheConnection()
    {
        using var connection = Open();
        using var command = new MySqlCommand("SELECT SLEEP(30)", connection) { CommandTimeout = 1 };
        var clock = Stopwatch.StartNew();

        var e = Assert.Throws<MySqlException>(() => command.ExecuteScalar());

        Assert.Contains("timeout of 1 s", e.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        using var next = new MySqlCommand("SELECT 'usable'", connection);
        Assert.Equal("usable", next.ExecuteScalar());
    }

    [Fact]
    public async Task Cancel_FromAnotherThread_StopsABlockedSynchronousQuery()
    {
        using var connection = Open();
        using var command = new MySqlCommand("SELECT SLEEP(30)", connection);
        var running = Task.Run(() => command.ExecuteScalar());
        var clock = Stopwatch.StartNew();
        while ((await db.Server.RootSqlAsync("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(30)'")).Trim() != "1")
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "the query never started");
            Assert.False(running.IsCompleted);
        }

        command.Cancel();

        var e = await Assert.ThrowsAsync<MySqlException>(() => running);
        Assert.Equal(MySqlErrorCode.QueryInterrupted, e.Number);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        using var next = new MySqlCommand("SELECT 'usable'", connection);
        Assert.Equal("usable", next.ExecuteScalar());
    }

    [Fact]
    public async Task OpenedSynchronously_AsynchronousCallsWorkToo()
    {
        await using var connection = Open();
        await using var command = new MySqlCommand("SELECT 40 + 2", connection);

        Assert.Equal(42L, Convert.ToInt64(await command.ExecuteScalarAsync()));
        Assert.Equal(42L, Convert.ToInt64(command.ExecuteScalar()));
    }

    [Fact]
    public async Task Pooled_SynchronousAndAsynchronousSessions_AreReused()
    {
        var connectionString = db.Server.ConnectionString(extra: "Maximum Pool Size=1");
        int first;
        using (var connection = new MySqlConnection(connectionString))
        {
            connection.Open();
            first = connection.ServerThread;
        }
        await using var again = new MySqlConnection(connectionString);
        await again.OpenAsync();

        Assert.Equal(first, again.ServerThread);
        using var command = new MySqlCommand("SELECT 1", again);
        Assert.Equal(1L, Convert.ToInt64(command.ExecuteScalar()));
    }

    private MySqlConnection Open()
    {
        var connection = new MySqlConnection(db.Server.ConnectionString(extra: "Pooling=false"));
        connection.Open();
        return connection;
    }
}
