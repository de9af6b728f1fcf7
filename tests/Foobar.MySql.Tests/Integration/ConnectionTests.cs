using System.Data;

namespace Foobar.MySql.Tests.Integration;

public class ConnectionTests(MariaDbFixture db) : IClassFixture<MariaDbFixture>
{
    [Fact]
    public async Task Open_NativePassword_ConnectsAndSelects()
    {
        await using var connection = await db.OpenAsync("SslMode=None");

        Assert.Equal(ConnectionState.Open, connection.State);
        Assert.Equal("mysql_native_password", connection.AuthenticationMethod);
        Assert.False(connection.IsEncrypted);
        Assert.StartsWith("10.11", connection.ServerVersion);
        await using var command = new MySqlCommand("SELECT 1 + 1", connection);
        Assert.Equal(2L, Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Open_Ed25519User_Authenticates()
    {
        await using var connection = new MySqlConnection(db.Server.ConnectionString(Foobar.Testing.MariaDbServer.Ed25519User, Foobar.Testing.MariaDbServer.Ed25519Password));
        await connection.OpenAsync();

        Assert.Equal("client_ed25519", connection.AuthenticationMethod);
        await using var command = new MySqlCommand("SELECT CURRENT_USER()", connection);
        Assert.StartsWith("ed@", (string)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task Open_WrongPassword_IsAccessDeniedAndNotTransient()
    {
        await using var connection = new MySqlConnection(db.Server.ConnectionString(password: "wrong"));

        var e = await Assert.ThrowsAsync<MySqlException>(() => connection.OpenAsync());

        Assert.Equal(MySqlErrorCode.AccessDenied, e.Number);
        Assert.Equal("28000", e.SqlState);
        Assert.False(e.IsTransient);
        Assert.Equal(ConnectionState.Closed, connection.State);
    }

    [Fact]
    public async Task Open_LocalAddress_ConnectsFromThatAddressSoHostBoundAccountsWork()
    {
        // The account exists only for connections from .200 of the server's block.
        var bytes = db.Server.Address.GetAddressBytes();
        bytes[3] = 200;
        var local = new System.Net.IPAddress(bytes).ToString();
        await db.Server.RootSqlAsync($"CREATE USER IF NOT EXISTS 'bound'@'{local}' IDENTIFIED BY 'bound-pw'; GRANT SELECT ON {Foobar.Testing.MariaDbServer.Database}.* TO 'bound'@'{local}'");
        var connectionString = db.Server.ConnectionString("bound", "bound-pw", "SslMode=None");

        await using var bound = new MySqlConnection(connectionString + $";Local Address={local}");
        await bound.OpenAsync();
        await using var command = new MySqlCommand("SELECT CURRENT_USER()", bound);
        Assert.Equal($"bound@{local}", await command.ExecuteScalarAsync());

        await using var unbound = new MySqlConnection(connectionString);
        var e = await Assert.ThrowsAsync<MySqlException>(() => unbound.OpenAsync());
        Assert.Equal(MySqlErrorCode.AccessDenied, e.Number);
    }

    [Fact]
    public void ConnectionString_LocalAddressThatIsNotAnAddress_NamesTheKey()
    {
        var e = Assert.Throws<ArgumentException>(() => new MySqlConnection("Server=127.0.0.1;Local Address=app1"));

        Assert.Contains("Local Address=app1 is not an IP address", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Preferred")]
    [InlineData("Required")]
    [InlineData("VerifyCA")]
    [InlineData("VerifyFull")]
    public async Task Open_Tls_EncryptsInEveryMode(string mode)
    {
        await using var connection = new MySqlConnection(db.Server.ConnectionString(extra: $"SslMode={mode};SslCa={db.Server.CaFile}"));
        await connection.OpenAsync();

        Assert.True(connection.IsEncrypted);
        await using var command = new MySqlCommand("SHOW SESSION STATUS LIKE 'Ssl_version'", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.StartsWith("TLSv1.", reader.GetString(1));
    }

    [Fact]
    public async Task Open_VerifyCaWithoutTheRightCa_FailsClearly()
    {
        await using var connection = new MySqlConnection(db.Server.ConnectionString(extra: "SslMode=VerifyCA;Pooling=false"));

        var e = await Assert.ThrowsAsync<MySqlException>(() => connection.OpenAsync());

        Assert.Contains("TLS handshake", e.Message);
    }

    [Fact]
    public async Task Open_NothingListening_IsTransientUnableToConnect()
    {
        await using var connection = new MySqlConnection($"Server=127.0.0.1;Port=1;User ID=x;Connect Timeout=2");

        var e = await Assert.ThrowsAsync<MySqlException>(() => connection.OpenAsync());

        Assert.Equal(MySqlErrorCode.UnableToConnect, e.Number);
        Assert.True(e.IsTransient);
    }

    [Fact]
    public async Task Ping_And_Reset_Work()
    {
        await using var connection = await db.OpenAsync();
        await using (var set = new MySqlCommand("SET @marker = 42", connection))
        {
            await set.ExecuteNonQueryAsync();
        }

        Assert.True(await connection.PingAsync());
        await connection.ResetConnectionAsync();

        await using var read = new MySqlCommand("SELECT @marker", connection);
        Assert.Null(await read.ExecuteScalarAsync() as long?);
    }
}
