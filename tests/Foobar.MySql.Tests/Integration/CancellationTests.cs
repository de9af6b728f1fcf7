using System.Diagnostics;

namespace Foobar.MySql.Tests.Integration;

public class CancellationTests(MariaDbFixture db) : IClassFixture<MariaDbFixture>
{
    [Fact]
    public async Task Cancel_RunningQuery_StopsItOnTheServerAndKeepsTheConnection()
    {
        await using var connection = await db.OpenAsync();
        await using var command = new MySqlCommand("SELECT SLEEP(30)", connection);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => command.ExecuteScalarAsync(cancel.Token));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        await using var next = new MySqlCommand("SELECT 'still usable'", connection);
        Assert.Equal("still usable", await next.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Cancel_TokenGivenToNextResult_StopsTheSlowStatement()
    {
        await using var connection = await db.OpenAsync();
        await using var command = new MySqlCommand("SELECT 1; SELECT SLEEP(30)", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();

        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reader.NextResultAsync(cancel.Token));

        Assert.Equal(cancel.Token, e.CancellationToken);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        await reader.DisposeAsync();
        await using var next = new MySqlCommand("SELECT 'usable'", connection);
        Assert.Equal("usable", await next.ExecuteScalarAsync());
    }

    [Fact]
    public async Task CommandTimeout_StopsTheQueryWithATimeoutError()
    {
        await using var connection = await db.OpenAsync();
        await using var command = new MySqlCommand("SELECT SLEEP(30)", connection) { CommandTimeout = 1 };

        var e = await Assert.ThrowsAsync<MySqlException>(() => command.ExecuteScalarAsync());

        Assert.Contains("timeout of 1 s", e.Message);
        Assert.IsType<TimeoutException>(e.InnerException);
        await using var next = new MySqlCommand("SELECT 2", connection);
        Assert.NotNull(await next.ExecuteScalarAsync());
    }

    [Fact]
    public async Task CommandTimeout_AfterQuickCommandsAndAPause_StillStopsTheSlowOne()
    {
        // One timer per session, armed by the first command and re-armed lazily: the slow command's
        // deadline lies after the time the timer was first armed for.
        await using var connection = await db.OpenAsync();
        for (var i = 0; i < 50; i++)
        {
            await using var quick = new MySqlCommand("SELECT 1", connection) { CommandTimeout = 1 };
            await quick.ExecuteScalarAsync();
        }
        await using (var pause = new MySqlCommand("DO SLEEP(0.6)", connection) { CommandTimeout = 5 })
        {
            await pause.ExecuteNonQueryAsync();
        }
        await using var slow = new MySqlCommand("SELECT SLEEP(30)", connection) { CommandTimeout = 1 };
        var clock = Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<MySqlException>(() => slow.ExecuteScalarAsync());

        Assert.Contains("timeout of 1 s", e.Message);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(20));
        await using var next = new MySqlCommand("SELECT 2", connection);
        Assert.Equal(2L, Convert.ToInt64(await next.ExecuteScalarAsync()));
    }

    [Fact]
    public async Task CancelAfterTheQueryFinished_DoesNotHitTheNextStatement()
    {
        await using var connection = await db.OpenAsync();
        using var cancel = new CancellationTokenSource();
        await using (var quick = new MySqlCommand("SELECT 1", connection))
        {
            var reader = await quick.ExecuteReaderAsync(cancel.Token);
            await reader.ReadAsync(cancel.Token);
            cancel.Cancel();
            await reader.DisposeAsync();
        }

        await using var next = new MySqlCommand("SELECT SLEEP(0.2), 'done'", connection);
        await using var r = await next.ExecuteReaderAsync();
        Assert.True(await r.ReadAsync());
        Assert.Equal("done", r.GetString(1));
    }
}
