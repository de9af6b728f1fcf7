using System.Diagnostics.Metrics;
using Foobar.Testing;

namespace Foobar.MySql.Tests.Integration;

public class PoolTests(MariaDbFixture db) : IClassFixture<MariaDbFixture>
{
    [Fact]
    public async Task Open_AfterClose_ReusesTheSameServerConnection()
    {
        await using var source = new MySqlDataSource(db.Server.ConnectionString());
        int first;
        await using (var connection = await source.OpenConnectionAsync())
        {
            first = connection.ServerThread;
        }

        await using var again = await source.OpenConnectionAsync();

        Assert.Equal(first, again.ServerThread);
        Assert.Equal((0, 1), source.PoolSize);
    }

    [Fact]
    public async Task Return_ResetsSessionState()
    {
        await using var source = new MySqlDataSource(db.Server.ConnectionString());
        await using (var connection = await source.OpenConnectionAsync())
        {
            await using var set = new MySqlCommand("SET @leak = 'secret'; CREATE TEMPORARY TABLE tmp_leak (x INT)", connection);
            await set.ExecuteNonQueryAsync();
        }

        await using var next = await source.OpenConnectionAsync();
        await using var read = new MySqlCommand("SELECT @leak", next);
        Assert.Equal(DBNull.Value, await read.ExecuteScalarAsync());
        await using var temp = new MySqlCommand("SELECT * FROM tmp_leak", next);
        Assert.Equal(1146, (await Assert.ThrowsAsync<MySqlException>(() => temp.ExecuteScalarAsync())).Number);
    }

    [Fact]
    public async Task BrokenConnection_IsNeverHandedOutAgain()
    {
        await using var source = new MySqlDataSource(db.Server.ConnectionString());
        int victim;
        await using (var connection = await source.OpenConnectionAsync())
        {
            victim = connection.ServerThread;
            await using var admin = await db.OpenAsync("Pooling=false");
            await using var kill = new MySqlCommand($"KILL CONNECTION {victim}", admin);
            await kill.ExecuteNonQueryAsync();
            await using var dead = new MySqlCommand("SELECT 1", connection);
            var e = await Assert.ThrowsAsync<MySqlException>(() => dead.ExecuteScalarAsync());
            Assert.True(e.IsTransient, e.Message);
        }

        await using var fresh = await source.OpenConnectionAsync();
        Assert.NotEqual(victim, fresh.ServerThread);
        await using var works = new MySqlCommand("SELECT 1", fresh);
        Assert.NotNull(await works.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Exhausted_WaitsThenFailsWithAClearTransientError()
    {
        await using var source = new MySqlDataSource(db.Server.ConnectionString(extra: "Maximum Pool Size=2;Connect Timeout=1"));
        await using var a = await source.OpenConnectionAsync();
        await using var b = await source.OpenConnectionAsync();

        var e = await Assert.ThrowsAsync<MySqlException>(() => source.OpenConnectionAsync().AsTask());

        Assert.Equal(MySqlErrorCode.PoolExhausted, e.Number);
        Assert.Contains("all 2 pooled connections are in use", e.Message);
        Assert.True(e.IsTransient);
        await a.CloseAsync();
        await using var c = await source.OpenConnectionAsync();
        Assert.Equal(System.Data.ConnectionState.Open, c.State);
    }

    [Fact]
    public async Task Metrics_ReportIdleAndUsedConnections()
    {
        var seen = new Dictionary<string, int>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Foobar.MySql" && instrument.Name == "db.client.connection.count")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        await using var source = new MySqlDataSource(db.Server.ConnectionString(extra: "Application Name=metrics"));
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            var pool = tags.ToArray().Single(t => t.Key == "db.client.connection.pool.name").Value as string;
            var state = tags.ToArray().Single(t => t.Key == "db.client.connection.state").Value as string;
            if (pool!.EndsWith("/app", StringComparison.Ordinal))
            {
                seen[state!] = seen.GetValueOrDefault(state!) + value;
            }
        });
        listener.Start();
        await using var used = await source.OpenConnectionAsync();
        await using (await source.OpenConnectionAsync())
        {
        }

        listener.RecordObservableInstruments();

        Assert.True(seen["used"] >= 1);
        Assert.True(seen["idle"] >= 1);
    }

    [Fact]
    public async Task Lifetime_ExpiredConnection_IsReplaced()
    {
        var time = new FakeTimeProvider();
        await using var source = new MySqlDataSource(db.Server.ConnectionString(extra: "Connection Lifetime=60"), time);
        int first;
        await using (var connection = await source.OpenConnectionAsync())
        {
            first = connection.ServerThread;
        }
        await using (var connection = await source.OpenConnectionAsync())
        {
            Assert.Equal(first, connection.ServerThread);
        }

        time.Advance(TimeSpan.FromSeconds(61));

        await using var replaced = await source.OpenConnectionAsync();
        Assert.NotEqual(first, replaced.ServerThread);
    }

    [Fact]
    public async Task IdleTimeout_IdleConnectionsAreClosedByMaintenance()
    {
        var time = new FakeTimeProvider();
        await using var source = new MySqlDataSource(db.Server.ConnectionString(extra: "Connection Idle Timeout=10"), time);
        await using (await source.OpenConnectionAsync())
        {
        }
        Assert.Equal(1, source.PoolSize.Idle);

        // Maintenance runs every 5 s (half the idle timeout): at 5 and 10 s it has not idled more than 10 s.
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, source.PoolSize.Idle);
        time.Advance(TimeSpan.FromSeconds(5));

        await Eventually.TrueAsync(() => source.PoolSize == (0, 0), "idle connection closed");
    }

    [Fact]
    public async Task MinimumPoolSize_IsOpenedAndKeptPastTheIdleTimeout()
    {
        var time = new FakeTimeProvider();
        await using var source = new MySqlDataSource(db.Server.ConnectionString(extra: "Minimum Pool Size=2;Connection Idle Timeout=10"), time);

        time.Advance(TimeSpan.FromSeconds(5));
        await Eventually.TrueAsync(() => source.PoolSize.Idle == 2, "two idle connections opened");
        int[] threads;
        await using (var a = await source.OpenConnectionAsync())
        await using (var b = await source.OpenConnectionAsync())
        {
            threads = [a.ServerThread, b.ServerThread];
        }

        time.Advance(TimeSpan.FromSeconds(60));

        await using var c = await source.OpenConnectionAsync();
        Assert.Contains(c.ServerThread, threads);
    }

    [Fact]
    public async Task ConnectionString_BadValue_NamesTheKey()
    {
        var e = Assert.Throws<ArgumentException>(() => new MySqlConnection("Server=x;Maximum Pool Size=lots"));
        Assert.Contains("Maximum Pool Size", e.Message);
        var min = Assert.Throws<ArgumentException>(() => new MySqlConnection("Server=x;Min Pool Size=5;Max Pool Size=2"));
        Assert.Contains("larger than Maximum Pool Size", min.Message);
        var mode = Assert.Throws<ArgumentException>(() => new MySqlConnection("Server=x;SslMode=Sometimes"));
        Assert.Contains("SslMode", mode.Message);
        await Task.CompletedTask;
    }

    private static async Task<object?> ScalarAsync(MySqlConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        await using var command = new MySqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return await command.ExecuteScalarAsync();
    }

    [Fact]
    public async Task Return_InsideATransaction_RollsBackAtOnce_SoItsLocksDoNotWaitInThePool()
    {
        await using var source = new MySqlDataSource(db.Server.ConnectionString());
        await using (var setup = await source.OpenConnectionAsync())
        {
            await ScalarAsync(setup, "CREATE TABLE IF NOT EXISTS pool_locks (id INT PRIMARY KEY); INSERT IGNORE INTO pool_locks VALUES (1)");
        }
        await using (var holder = await source.OpenConnectionAsync())
        {
            await ScalarAsync(holder, "BEGIN; SELECT id FROM pool_locks WHERE id = 1 FOR UPDATE");
        }

        await using var other = await db.OpenAsync("Pooling=false");
        await ScalarAsync(other, "SET SESSION innodb_lock_wait_timeout = 1");
        Assert.Equal(1, await ScalarAsync(other, "SELECT id FROM pool_locks WHERE id = 1 FOR UPDATE"));
    }

    [Theory]
    [InlineData("back\\slash ' and quote")]
    [InlineData("nul \0, ctrl-z \u001A, quotes '' and \" and é")]
    public async Task FirstCommandAfterTheDeferredReset_RoundTripsEveryString(string value)
    {
        await using var source = new MySqlDataSource(db.Server.ConnectionString());
        await using (var first = await source.OpenConnectionAsync())
        {
            await ScalarAsync(first, "SET @x = 1");
        }

        await using var next = await source.OpenConnectionAsync();

        Assert.Equal(value, await ScalarAsync(next, "SELECT @v", ("@v", value)));
        Assert.Equal(DBNull.Value, await ScalarAsync(next, "SELECT @x"));
    }

    [Fact]
    public async Task Return_AfterTheSessionChangedItsBackslashMode_ResetsAtOnce_AndTheNextValueRoundTrips()
    {
        await using var source = new MySqlDataSource(db.Server.ConnectionString());
        await using (var first = await source.OpenConnectionAsync())
        {
            await ScalarAsync(first, "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')");
        }

        await using var next = await source.OpenConnectionAsync();

        const string value = "it\\'s";
        Assert.Equal(value, await ScalarAsync(next, "SELECT @v", ("@v", value)));
        Assert.DoesNotContain("NO_BACKSLASH_ESCAPES", (string)(await ScalarAsync(next, "SELECT @@sql_mode"))!);
    }

    [Fact]
    public async Task TheNextUser_TracksTheGtidOfItsOwnWrite_NotThePreviousUsers()
    {
        await using var source = new MySqlDataSource(db.Server.ConnectionString());
        string? previous;
        await using (var first = await source.OpenConnectionAsync())
        {
            await ScalarAsync(first, "CREATE TABLE IF NOT EXISTS pool_gtids (id INT AUTO_INCREMENT PRIMARY KEY); INSERT INTO pool_gtids () VALUES ()");
            previous = first.LastGtid;
        }

        await using var next = await source.OpenConnectionAsync();
        Assert.Null(next.LastGtid);
        await ScalarAsync(next, "INSERT INTO pool_gtids () VALUES ()");

        Assert.Matches(@"^0-1-\d+$", previous);
        Assert.Matches(@"^0-1-\d+$", next.LastGtid);
        Assert.NotEqual(previous, next.LastGtid);
    }
}
