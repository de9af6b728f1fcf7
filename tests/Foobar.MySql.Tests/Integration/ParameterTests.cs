namespace Foobar.MySql.Tests.Integration;

public class ParameterTests(MariaDbFixture db) : IClassFixture<MariaDbFixture>
{
    public static TheoryData<string> Nasty() => new()
    {
        "plain",
        "it's",
        "back\\slash",
        "\\' OR 1=1 -- ",
        "'; DROP TABLE t; --",
        "quote\" and `tick`",
        "nul\0byte",
        "ctrl-z\u001A",
        "new\nline\r\ttab",
        "emoji 😀 and ümlaut",
        "?name @name @@version",
        "",
    };

    [Theory]
    [MemberData(nameof(Nasty))]
    public async Task String_RoundTripsExactly(string value)
    {
        await using var connection = await db.OpenAsync();
        await using var command = new MySqlCommand("SELECT @v", connection);
        command.Parameters.AddWithValue("@v", value);

        Assert.Equal(value, await command.ExecuteScalarAsync());
    }

    [Theory]
    [MemberData(nameof(Nasty))]
    public async Task String_RoundTripsWithNoBackslashEscapes(string value)
    {
        await using var connection = await db.OpenAsync();
        await using (var mode = new MySqlCommand("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')", connection))
        {
            await mode.ExecuteNonQueryAsync();
        }
        await using var command = new MySqlCommand("SELECT @v", connection);
        command.Parameters.AddWithValue("v", value);

        Assert.Equal(value, await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Placeholders_InsideLiteralsAndComments_AreLeftAlone()
    {
        await using var connection = await db.OpenAsync();
        await using var command = new MySqlCommand("SELECT '@v', \"?\", `@v` FROM (SELECT 1 AS `@v`) t /* @v */ WHERE @v = 5 -- @v", connection);
        command.Parameters.AddWithValue("@v", 5);
        await using var reader = await command.ExecuteReaderAsync();

        Assert.True(await reader.ReadAsync());
        Assert.Equal("@v", reader.GetString(0));
        Assert.Equal("?", reader.GetString(1));
    }

    [Fact]
    public async Task PositionalAndNamedForms_AllBind()
    {
        await using var connection = await db.OpenAsync();
        await using var command = new MySqlCommand("SELECT CONCAT(?, ?name, @other, ?)", connection);
        command.Parameters.Add(new MySqlParameter { Value = "a" });
        command.Parameters.AddWithValue("?name", "b");
        command.Parameters.AddWithValue("other", "c");
        command.Parameters.Add(new MySqlParameter { Value = "d" });

        Assert.Equal("abcd", await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task UserVariables_WithoutAParameter_StayUserVariables()
    {
        await using var connection = await db.OpenAsync();
        await using var command = new MySqlCommand("SET @uv = @p; SELECT @uv * 2", connection);
        command.Parameters.AddWithValue("@p", 21);

        Assert.Equal(42L, await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task MissingPositionalParameter_IsAClearError()
    {
        await using var connection = await db.OpenAsync();
        await using var command = new MySqlCommand("SELECT ?, ?", connection);
        command.Parameters.Add(new MySqlParameter { Value = 1 });

        var e = await Assert.ThrowsAsync<MySqlException>(() => command.ExecuteScalarAsync());
        Assert.Contains("more '?' placeholders", e.Message);
    }

    [Fact]
    public async Task UnsupportedValueType_NamesTheType()
    {
        await using var connection = await db.OpenAsync();
        await using var command = new MySqlCommand("SELECT @v", connection);
        command.Parameters.AddWithValue("@v", new Uri("http://x/"));

        var e = await Assert.ThrowsAsync<NotSupportedException>(() => command.ExecuteScalarAsync());
        Assert.Contains("System.Uri", e.Message);
    }
}
