namespace Foobar.MySql.Tests.Integration;

public class TypeTests(MariaDbFixture db) : IClassFixture<MariaDbFixture>
{
    [Fact]
    public async Task EveryType_RoundTripsThroughATable()
    {
        await using var connection = await db.OpenAsync();
        await Exec(connection, """
            CREATE OR REPLACE TABLE types (
              ti TINYINT, tu TINYINT UNSIGNED, b TINYINT(1), si SMALLINT, su SMALLINT UNSIGNED, mi MEDIUMINT, i INT, iu INT UNSIGNED,
              bi BIGINT, bu BIGINT UNSIGNED, de DECIMAL(20,6), f FLOAT, d DOUBLE, bit BIT(10),
              da DATE, dt DATETIME(6), ts TIMESTAMP(3) NULL, t TIME(6), y YEAR,
              c CHAR(5), vc VARCHAR(100), tx TEXT, bin BINARY(4), vb VARBINARY(10), bl MEDIUMBLOB, js JSON,
              en ENUM('red','green'), st SET('a','b','c'), g CHAR(36), n INT NULL)
            """);
        var guid = Guid.NewGuid();
        await using (var insert = new MySqlCommand("""
            INSERT INTO types VALUES (@ti, @tu, @b, @si, @su, @mi, @i, @iu, @bi, @bu, @de, @f, @d, b'1010101010',
              @da, @dt, @ts, @t, 2026, @c, @vc, @tx, @bin, @vb, @bl, @js, 'green', 'a,c', @g, @n)
            """, connection))
        {
            insert.Parameters.AddWithValue("@ti", (sbyte)-128);
            insert.Parameters.AddWithValue("@tu", (byte)255);
            insert.Parameters.AddWithValue("@b", true);
            insert.Parameters.AddWithValue("@si", short.MinValue);
            insert.Parameters.AddWithValue("@su", ushort.MaxValue);
            insert.Parameters.AddWithValue("@mi", -8388608);
            insert.Parameters.AddWithValue("@i", int.MinValue);
            insert.Parameters.AddWithValue("@iu", uint.MaxValue);
            insert.Parameters.AddWithValue("@bi", long.MinValue);
            insert.Parameters.AddWithValue("@bu", ulong.MaxValue);
            insert.Parameters.AddWithValue("@de", -12345678901234.123456m);
            insert.Parameters.AddWithValue("@f", 1.5f);
            insert.Parameters.AddWithValue("@d", Math.PI);
            insert.Parameters.AddWithValue("@da", new DateOnly(2026, 11, 22));
            insert.Parameters.AddWithValue("@dt", new DateTime(2026, 11, 22, 6, 5, 4).AddTicks(1234560));
            insert.Parameters.AddWithValue("@ts", new DateTime(2026, 1, 2, 3, 4, 5, 678));
            insert.Parameters.AddWithValue("@t", new TimeSpan(-1, -2, -3, -4, -500));
            insert.Parameters.AddWithValue("@c", "abc");
            insert.Parameters.AddWithValue("@vc", "héllo wörld 😀");
            insert.Parameters.AddWithValue("@tx", new string('x', 70_000 / 2));
            insert.Parameters.AddWithValue("@bin", new byte[] { 0, 1, 0xFE, 0xFF });
            insert.Parameters.AddWithValue("@vb", new byte[] { 0x27, 0x5C, 0x00 });
            insert.Parameters.AddWithValue("@bl", Enumerable.Range(0, 300_000).Select(i => (byte)i).ToArray());
            insert.Parameters.AddWithValue("@js", "{\"a\": [1, 2]}");
            insert.Parameters.AddWithValue("@g", guid);
            insert.Parameters.AddWithValue("@n", DBNull.Value);
            Assert.Equal(1, await insert.ExecuteNonQueryAsync());
        }

        await using var select = new MySqlCommand("SELECT * FROM types", connection);
        await using var r = await select.ExecuteReaderAsync();
        Assert.True(await r.ReadAsync());

        Assert.Equal((sbyte)-128, r.GetValue(0));
        Assert.Equal((byte)255, r.GetValue(1));
        Assert.Equal(true, r.GetValue(2));
        Assert.Equal(short.MinValue, r.GetValue(3));
        Assert.Equal(ushort.MaxValue, r.GetValue(4));
        Assert.Equal(-8388608, r.GetValue(5));
        Assert.Equal(int.MinValue, r.GetInt32(6));
        Assert.Equal(uint.MaxValue, r.GetValue(7));
        Assert.Equal(long.MinValue, r.GetInt64(8));
        Assert.Equal(ulong.MaxValue, r.GetFieldValue<ulong>(9));
        Assert.Throws<OverflowException>(() => r.GetInt64(9));
        Assert.Equal(-12345678901234.123456m, r.GetDecimal(10));
        Assert.Equal(1.5f, r.GetFloat(11));
        Assert.Equal(Math.PI, r.GetDouble(12));
        Assert.Equal(0b1010101010UL, r.GetValue(13));
        Assert.Equal(new DateTime(2026, 11, 22), r.GetDateTime(14));
        Assert.Equal(new DateOnly(2026, 11, 22), r.GetFieldValue<DateOnly>(14));
        Assert.Equal(new DateTime(2026, 11, 22, 6, 5, 4).AddTicks(1234560), r.GetDateTime(15));
        Assert.Equal(new DateTime(2026, 1, 2, 3, 4, 5, 678), r.GetDateTime(16));
        Assert.Equal(new TimeSpan(-1, -2, -3, -4, -500), r.GetFieldValue<TimeSpan>(17));
        Assert.Equal(2026, r.GetValue(18));
        Assert.Equal("abc", r.GetString(19));
        Assert.Equal("héllo wörld 😀", r.GetString(20));
        Assert.Equal(35_000, r.GetString(21).Length);
        Assert.Equal(new byte[] { 0, 1, 0xFE, 0xFF }, r.GetValue(22));
        Assert.Equal(new byte[] { 0x27, 0x5C, 0x00 }, r.GetFieldValue<byte[]>(23));
        Assert.Equal(300_000, ((byte[])r.GetValue(24)).Length);
        Assert.Equal(299_999 % 256, ((byte[])r.GetValue(24))[^1]);
        Assert.Contains("\"a\"", r.GetString(25));
        Assert.Equal("green", r.GetString(26));
        Assert.Equal("a,c", r.GetString(27));
        Assert.Equal(guid, r.GetGuid(28));
        Assert.True(r.IsDBNull(29));
        Assert.Equal(DBNull.Value, r.GetValue(29));
        Assert.Null(r.GetFieldValue<int?>(29));
        Assert.Throws<InvalidCastException>(() => r.GetInt32(29));
        Assert.Equal("BIGINT UNSIGNED", r.GetDataTypeName(9));
        Assert.Equal(typeof(ulong), r.GetFieldType(9));
        Assert.False(await r.ReadAsync());
    }

    [Fact]
    public async Task LargeRow_OverSixteenMebibytes_IsJoinedFromSeveralPackets()
    {
        await using var connection = await db.OpenAsync();
        await using var command = new MySqlCommand("SELECT REPEAT('z', 17000000) AS big, 'after' AS tail", connection);
        await using var reader = await command.ExecuteReaderAsync();

        Assert.True(await reader.ReadAsync());
        Assert.Equal(17_000_000, reader.GetString(0).Length);
        Assert.Equal("after", reader.GetString(1));
    }

    [Fact]
    public async Task ZeroDate_IsAnExplainedInvalidCast()
    {
        await using var connection = await db.OpenAsync();
        await Exec(connection, "SET SESSION sql_mode = ''");
        await using var command = new MySqlCommand("SELECT CAST('0000-00-00' AS DATE)", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());

        var e = Assert.Throws<InvalidCastException>(() => reader.GetDateTime(0));
        Assert.Contains("zero date", e.Message);
        Assert.Equal("0000-00-00", reader.GetString(0));
    }

    private static async Task Exec(MySqlConnection connection, string sql)
    {
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
