using System.Text;

namespace Foobar.MySql.Tests.Fakes;

/// <summary>
/// Text rows as a server sends them, shaped on purpose: values of every length encoding, NULLs, and
/// rows that do not add up, which must be protocol errors and never a crash or a wrong value.
/// </summary>
public class TextRowTests
{
    private static byte[] Query(string sql) => [0x03, .. Encoding.UTF8.GetBytes(sql)];

    /// <summary>A VARCHAR column definition (ColumnDefinition41) named <paramref name="name"/>.</summary>
    private static byte[] Column(string name)
    {
        var bytes = new List<byte>();
        foreach (var part in new[] { "def", "test", "t", "t", name, name })
        {
            bytes.Add((byte)part.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(part));
        }
        bytes.Add(0x0C);
        bytes.AddRange([45, 0]);                 // utf8mb4
        bytes.AddRange(BitConverter.GetBytes(1024u));
        bytes.Add(0xFD);                         // VAR_STRING
        bytes.AddRange([0, 0, 0, 0, 0]);         // flags, decimals, filler
        return [.. bytes];
    }

    /// <summary>With CLIENT_DEPRECATE_EOF a result ends with an OK whose header is 0xFE.</summary>
    private static byte[] End => [0xFE, 0, 0, 2, 0, 0, 0];

    /// <summary>A server that answers <c>SELECT</c> with two columns and <paramref name="rows"/>, then waits.</summary>
    private static FakeMySqlServer Serving(params byte[][] rows) => new(async (c, _) =>
    {
        await c.SendAsync(FakeConnection.Handshake());
        await c.ReadAsync();
        await c.SendAsync(FakeConnection.Ok);
        Assert.Equal(Query("SELECT"), await c.ReadAsync());
        await c.SendAsync([2]);
        await c.SendAsync(Column("a"));
        await c.SendAsync(Column("b"));
        foreach (var row in rows)
        {
            await c.SendAsync(row);
        }
        await c.SendAsync(End);
        await c.ReadAsync();
    });

    private static async Task<List<(string? A, string? B)>> ReadAll(FakeMySqlServer server)
    {
        await using var connection = new MySqlConnection(server.ConnectionString("Pooling=false"));
        await connection.OpenAsync();
        await using var command = new MySqlCommand("SELECT", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string?, string?)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.IsDBNull(0) ? null : reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1)));
        }
        return rows;
    }

    [Fact]
    public async Task Values_OfEveryLengthEncoding_AndNulls_ReadBack()
    {
        var long300 = new string('x', 300);
        var long70000 = new string('y', 70_000);
        await using var server = Serving(
            [1, (byte)'a', 0],                                                     // "a", ""
            [0xFB, 2, (byte)'h', (byte)'i'],                                         // NULL, "hi"
            [250, .. Encoding.ASCII.GetBytes(new string('z', 250)), 0xFB],           // the longest one-byte length, NULL
            [0xFC, 0x2C, 0x01, .. Encoding.ASCII.GetBytes(long300), 1, (byte)'b'],   // a two-byte length (300)
            [1, (byte)'c', 0xFD, 0x70, 0x11, 0x01, .. Encoding.ASCII.GetBytes(long70000)]); // a three-byte length (70,000)

        var rows = await ReadAll(server);

        Assert.Equal(
            [("a", ""), (null, "hi"), (new string('z', 250), null), (long300, "b"), ("c", long70000)],
            rows);
    }

    [Theory]
    [InlineData(new byte[] { 10, (byte)'a', (byte)'b', (byte)'c' })]    // the first value claims 10 bytes, 3 are there
    [InlineData(new byte[] { 1, (byte)'a' })]                            // the second value is missing
    [InlineData(new byte[] { 1, (byte)'a', 5, (byte)'b' })]              // the second value is cut short
    [InlineData(new byte[] { 0xFC, 0x2C })]                              // a two-byte length cut short
    [InlineData(new byte[] { 0xFC, 0x2C, 0x01, (byte)'x', 0xFB })]       // a two-byte length with too few bytes behind it
    [InlineData(new byte[] { 1, (byte)'a', 0xFE, 1, 2, 3, 4, 5, 6, 7, 8 })]                 // an eight-byte length past any packet
    [InlineData(new byte[] { 1, (byte)'a', 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 1 })]  // one past the int range
    public async Task ARowThatDoesNotAddUp_IsAProtocolError(byte[] row)
    {
        await using var server = Serving(row);

        var e = await Assert.ThrowsAsync<MySqlProtocolException>(() => ReadAll(server));

        Assert.Contains("truncated", e.Message);
    }
}
