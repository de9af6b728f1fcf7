using System.Text;

namespace Foobar.MySql.Tests.Fakes;

/// <summary>
/// The reset of a pooled connection goes out in one write with the next user's first command,
/// against a fake server that answers nothing until it has read both.
/// </summary>
public class DeferredResetTests
{
    private static byte[] Query(string sql) => [0x03, .. Encoding.UTF8.GetBytes(sql)];

    private const byte ResetConnection = 0x1F;

    /// <summary>Handshake, authentication, and the first user's <c>DO 1</c>.</summary>
    private static async Task ConnectAndServeFirstUser(FakeConnection c)
    {
        await c.SendAsync(FakeConnection.Handshake());
        await c.ReadAsync();
        await c.SendAsync(FakeConnection.Ok);
        Assert.Equal(Query("DO 1"), await c.ReadAsync());
        await c.SendAsync(FakeConnection.Ok, 1);
    }

    private static async Task UseTwice(MySqlDataSource source)
    {
        await using (var first = await source.OpenConnectionAsync())
        {
            await using var command = new MySqlCommand("DO 1", first);
            await command.ExecuteNonQueryAsync();
        }
        await using (var second = await source.OpenConnectionAsync())
        {
            await using var command = new MySqlCommand("DO 2", second);
            // A client that waited for the reset's answer before sending DO 2 would wait forever here.
            await command.ExecuteNonQueryAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    [Fact]
    public async Task TheNextUser_SendsTheResetAndItsCommandTogether_AndReadsBothAnswers()
    {
        var received = new List<byte[]>();
        await using var server = new FakeMySqlServer(async (c, _) =>
        {
            await ConnectAndServeFirstUser(c);
            received.Add(await c.ReadAsync());
            received.Add(await c.ReadAsync());
            await c.SendAsync(FakeConnection.Ok, 1);
            await c.SendAsync(FakeConnection.Ok, 1);
            await c.ReadAsync();
        });
        await using var source = new MySqlDataSource(server.ConnectionString());

        await UseTwice(source);

        Assert.Equal([[ResetConnection], Query("DO 2")], received);
        Assert.Equal((1, 0), source.PoolSize);
        Assert.Empty(server.ScriptErrors);
    }

    [Fact]
    public async Task AResetTheServerRefuses_StillGivesTheCommandItsAnswer_AndTheConnectionIsNotPooledAgain()
    {
        await using var server = new FakeMySqlServer(async (c, _) =>
        {
            await ConnectAndServeFirstUser(c);
            await c.ReadAsync();
            await c.ReadAsync();
            await c.SendAsync(FakeConnection.Error(1047, "08S01", "Unknown command"), 1);
            await c.SendAsync(FakeConnection.Ok, 1);
            await c.ReadAsync();
        });
        await using var source = new MySqlDataSource(server.ConnectionString());

        await UseTwice(source);

        Assert.Equal((0, 0), source.PoolSize);
    }
}
