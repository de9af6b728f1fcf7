using Dapper;

namespace Foobar.MySql.Tests.Integration;

public class QueryTests(MariaDbFixture db) : IClassFixture<MariaDbFixture>
{
    [Fact]
    public async Task ExecuteNonQuery_Insert_ReportsAffectedRowsAndLastInsertId()
    {
        await using var connection = await db.OpenAsync();
        await Exec(connection, "CREATE TABLE IF NOT EXISTS ids (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT)");

        await using var insert = new MySqlCommand("INSERT INTO ids (v) VALUES (1), (2), (3)", connection);
        var affected = await insert.ExecuteNonQueryAsync();

        Assert.Equal(3, affected);
        Assert.True(insert.LastInsertedId > 0);
        await using var update = new MySqlCommand("UPDATE ids SET v = v + 10 WHERE v <= 2", connection);
        Assert.Equal(2, await update.ExecuteNonQueryAsync());
    }

    [Fact]
    public async Task Write_TracksTheGtidOfTheCommit()
    {
        await using var connection = await db.OpenAsync();
        await Exec(connection, "CREATE TABLE IF NOT EXISTS gtids (id INT AUTO_INCREMENT PRIMARY KEY)");

        await Exec(connection, "INSERT INTO gtids () VALUES ()");
        var first = connection.LastGtid;
        await Exec(connection, "INSERT INTO gtids () VALUES ()");

        Assert.Matches(@"^0-1-\d+$", first);
        Assert.NotEqual(first, connection.LastGtid);
        await using var check = new MySqlCommand("SELECT @@gtid_binlog_pos", connection);
        Assert.Equal(connection.LastGtid, await check.ExecuteScalarAsync());
    }

    [Fact]
    public async Task MultipleStatements_YieldEachResultSetInTurn()
    {
        await using var connection = await db.OpenAsync();
        await using var command = new MySqlCommand("SELECT 1 AS a; DO 0; SELECT 'x' AS b, 'y' AS c; SELECT 2 WHERE 1 = 0", connection);
        await using var reader = await command.ExecuteReaderAsync();

        Assert.Equal("a", reader.GetName(0));
        Assert.True(await reader.ReadAsync());
        Assert.Equal(1, reader.GetInt32(0));
        Assert.False(await reader.ReadAsync());
        Assert.True(await reader.NextResultAsync());
        Assert.Equal(2, reader.FieldCount);
        Assert.True(reader.HasRows);
        Assert.True(await reader.ReadAsync());
        Assert.Equal("y", reader.GetString(reader.GetOrdinal("C")));
        Assert.True(await reader.NextResultAsync());
        Assert.False(reader.HasRows);
        Assert.False(await reader.ReadAsync());
        Assert.False(await reader.NextResultAsync());
    }

    [Fact]
    public async Task ServerError_BecomesMySqlExceptionAndTheConnectionStaysUsable()
    {
        await using var connection = await db.OpenAsync();
        await using var bad = new MySqlCommand("SELECT * FROM no_such_table", connection);

        var e = await Assert.ThrowsAsync<MySqlException>(() => bad.ExecuteReaderAsync());

        Assert.Equal(1146, e.Number);
        Assert.Equal("42S02", e.SqlState);
        Assert.Contains("no_such_table", e.Message);
        Assert.False(e.IsTransient);
        await using var good = new MySqlCommand("SELECT 7", connection);
        Assert.Equal(7, Convert.ToInt32(await good.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task ErrorInALaterStatement_IsThrownWhenReached()
    {
        await using var connection = await db.OpenAsync();
        await using var command = new MySqlCommand("SELECT 1; SELECT * FROM missing_table", connection);
        await using var reader = await command.ExecuteReaderAsync();

        Assert.True(await reader.ReadAsync());
        var e = await Assert.ThrowsAsync<MySqlException>(() => reader.NextResultAsync());
        Assert.Equal(1146, e.Number);
    }

    [Fact]
    public async Task SecondCommandWhileAReaderIsOpen_IsAClearError()
    {
        await using var connection = await db.OpenAsync();
        await using var first = new MySqlCommand("SELECT 1 UNION SELECT 2", connection);
        await using var reader = await first.ExecuteReaderAsync();

        await using var second = new MySqlCommand("SELECT 3", connection);
        var e = await Assert.ThrowsAsync<MySqlException>(() => second.ExecuteScalarAsync());

        Assert.Contains("data reader is still open", e.Message);
    }

    [Fact]
    public async Task Transaction_RollbackDiscardsAndCommitKeeps()
    {
        await using var connection = await db.OpenAsync();
        await Exec(connection, "CREATE TABLE IF NOT EXISTS tx (v INT) ENGINE=InnoDB");
        await Exec(connection, "DELETE FROM tx");

        await using (var rolledBack = await connection.BeginTransactionAsync())
        {
            await Exec(connection, "INSERT INTO tx VALUES (1)");
            await rolledBack.RollbackAsync();
        }
        await using (var committed = await connection.BeginTransactionAsync(System.Data.IsolationLevel.Serializable))
        {
            await Exec(connection, "INSERT INTO tx VALUES (2)");
            await committed.CommitAsync();
        }
        await using (await connection.BeginTransactionAsync())
        {
            await Exec(connection, "INSERT INTO tx VALUES (3)");
            // disposed without commit: rolled back
        }

        await using var count = new MySqlCommand("SELECT GROUP_CONCAT(v) FROM tx", connection);
        Assert.Equal("2", await count.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Dapper_QueriesAndExecutesWithParameters()
    {
        await using var connection = await db.OpenAsync();
        await connection.ExecuteAsync("CREATE TABLE IF NOT EXISTS people (id INT PRIMARY KEY, name VARCHAR(50), born DATE, score DECIMAL(5,2) NULL)");
        await connection.ExecuteAsync("DELETE FROM people");

        var inserted = await connection.ExecuteAsync("INSERT INTO people VALUES (@Id, @Name, @Born, @Score)", new[]
        {
            new Person(1, "Ada", new DateTime(1815, 12, 10), 99.5m),
            new Person(2, "O'Brien; DROP TABLE people; --", new DateTime(1990, 1, 2), null),
        });
        var people = (await connection.QueryAsync<Person>("SELECT id, name, born, score FROM people WHERE id >= @min ORDER BY id", new { min = 1 })).ToList();

        Assert.Equal(2, inserted);
        Assert.Equal(new Person(1, "Ada", new DateTime(1815, 12, 10), 99.5m), people[0]);
        Assert.Equal("O'Brien; DROP TABLE people; --", people[1].Name);
        Assert.Null(people[1].Score);
        Assert.Equal(2, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM people"));
    }

    private sealed record Person(int Id, string Name, DateTime Born, decimal? Score);

    private static async Task Exec(MySqlConnection connection, string sql)
    {
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
