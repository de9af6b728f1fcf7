using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Foobar.MySql.Auth;

namespace Foobar.MySql.Tests.Fakes;

public class MisbehavingServerTests
{
    [Fact]
    public async Task ServerClosesMidPacket_IsATransientConnectionLostError()
    {
        await using var server = new FakeMySqlServer(async (c, _) =>
        {
            await c.SendRawAsync([100, 0, 0, 0, 10, 1, 2, 3]);
            c.Stream.Close();
        });

        var e = await Assert.ThrowsAsync<MySqlException>(() => Open(server));

        Assert.Equal(MySqlErrorCode.ConnectionLost, e.Number);
        Assert.Contains("closed the connection", e.Message);
        Assert.True(e.IsTransient);
    }

    [Fact]
    public async Task ServerClosesMidPacket_Synchronously_IsTheSameError()
    {
        await using var server = new FakeMySqlServer(async (c, _) =>
        {
            await c.SendRawAsync([100, 0, 0, 0, 10, 1, 2, 3]);
            c.Stream.Close();
        });
        using var connection = new MySqlConnection(server.ConnectionString("Pooling=false"));

        var e = Assert.Throws<MySqlException>(connection.Open);

        Assert.Equal(MySqlErrorCode.ConnectionLost, e.Number);
        Assert.Contains("closed the connection", e.Message);
    }

    [Fact]
    public async Task ServerThatNeverAnswers_BlockingOpen_TimesOutInsteadOfHanging()
    {
        await using var server = new FakeMySqlServer((c, _) => Task.Delay(TimeSpan.FromSeconds(30)));
        using var connection = new MySqlConnection(server.ConnectionString("Pooling=false;Connect Timeout=1"));
        var clock = Stopwatch.StartNew();

        var e = Assert.Throws<MySqlException>(connection.Open);

        Assert.True(e.Number == MySqlErrorCode.UnableToConnect, e.ToString());
        Assert.Contains("connect timeout of 1 s", e.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Fact]
    public void NothingListening_BlockingOpen_IsAClearConnectError()
    {
        using var connection = new MySqlConnection("Server=127.0.0.1;Port=1;User ID=x;Password=y;SslMode=None;Pooling=false;Connect Timeout=1");

        var e = Assert.Throws<MySqlException>(connection.Open);

        Assert.Equal(MySqlErrorCode.UnableToConnect, e.Number);
        Assert.Contains("cannot connect to 127.0.0.1:1", e.Message);
    }

    [Fact]
    public async Task WrongProtocolVersion_IsAProtocolError()
    {
        await using var server = new FakeMySqlServer((c, _) => c.SendAsync(FakeConnection.Handshake(protocol: 9)));

        var e = await Assert.ThrowsAsync<MySqlProtocolException>(() => Open(server));

        Assert.Contains("protocol version 9", e.Message);
    }

    [Fact]
    public async Task TruncatedHandshake_IsAProtocolErrorNotACrash()
    {
        await using var server = new FakeMySqlServer((c, _) => c.SendAsync(FakeConnection.Handshake()[..30]));

        var e = await Assert.ThrowsAsync<MySqlProtocolException>(() => Open(server));

        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public async Task PacketOutOfSequence_IsAProtocolError()
    {
        await using var server = new FakeMySqlServer((c, _) => c.SendAsync(FakeConnection.Handshake(), sequence: 5));

        var e = await Assert.ThrowsAsync<MySqlProtocolException>(() => Open(server));

        Assert.Contains("out of order", e.Message);
    }

    [Fact]
    public async Task ServerThatNeverAnswers_TimesOutInsteadOfHanging()
    {
        // A finite delay: Task.Delay(Infinite) has no timer to root it, and a collected TcpClient resets the socket.
        await using var server = new FakeMySqlServer((c, _) => Task.Delay(TimeSpan.FromSeconds(30)));
        var clock = Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<MySqlException>(() => Open(server, "Connect Timeout=1"));

        Assert.True(e.Number == MySqlErrorCode.UnableToConnect, e.ToString());
        Assert.Contains("connect timeout of 1 s", e.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task UnknownAuthPlugin_NamesItAndWhatToUse()
    {
        await using var server = new FakeMySqlServer(async (c, _) =>
        {
            await c.SendAsync(FakeConnection.Handshake());
            await c.ReadAsync();
            await c.SendAsync([0xFE, .. "auth_gssapi_client"u8.ToArray(), 0, .. FakeMySqlServer.Scramble, 0]);
            await c.ReadAsync();
        });

        var e = await Assert.ThrowsAsync<MySqlException>(() => Open(server));

        Assert.Contains("'auth_gssapi_client'", e.Message);
        Assert.Contains("ed25519", e.Message);
    }

    [Fact]
    public async Task ClearPasswordOverPlainText_IsRefused()
    {
        await using var server = new FakeMySqlServer(async (c, _) =>
        {
            await c.SendAsync(FakeConnection.Handshake());
            await c.ReadAsync();
            await c.SendAsync([0xFE, .. "mysql_clear_password"u8.ToArray(), 0]);
            await c.ReadAsync();
        });

        var e = await Assert.ThrowsAsync<MySqlException>(() => Open(server));

        Assert.Contains("clear text over an unencrypted connection", e.Message);
    }

    [Fact]
    public async Task TlsRequiredButGarbageInsteadOfTls_FailsClearly()
    {
        await using var server = new FakeMySqlServer(async (c, _) =>
        {
            await c.SendAsync(FakeConnection.Handshake());
            await c.ReadAsync();
            await c.SendRawAsync(Encoding.ASCII.GetBytes("HTTP/1.1 400 Bad Request\r\n\r\n"));
            c.Stream.Close();
        });

        var e = await Assert.ThrowsAsync<MySqlException>(() => Open(server, "SslMode=Required"));

        Assert.Contains("TLS", e.Message);
    }

    [Fact]
    public async Task TlsRequiredButNotOffered_FailsBeforeSendingThePassword()
    {
        await using var server = new FakeMySqlServer((c, _) => c.SendAsync(FakeConnection.Handshake(capabilities: 0xFFFF_F7FF & ~0x800u)));

        var e = await Assert.ThrowsAsync<MySqlException>(() => Open(server, "SslMode=Required"));

        Assert.Contains("does not offer TLS", e.Message);
    }

    [Fact]
    public async Task CachingSha2_FastPath_Authenticates()
    {
        byte[]? response = null;
        await using var server = new FakeMySqlServer(async (c, _) =>
        {
            await c.SendAsync(FakeConnection.Handshake("caching_sha2_password"));
            response = FakeConnection.AuthResponse(await c.ReadAsync());
            await c.SendAsync([0x01, 0x03]);
            await c.SendAsync(FakeConnection.Ok);
            await c.ReadAsync();
        });

        await using var connection = await Open(server);

        Assert.Equal("caching_sha2_password", connection.AuthenticationMethod);
        Assert.Equal(AuthenticationMethods.Sha2Scramble("secret", FakeMySqlServer.Scramble), response);
    }

    [Fact]
    public async Task CachingSha2_FullAuthWithoutTlsOrKeyRetrieval_ExplainsTheChoices()
    {
        await using var server = new FakeMySqlServer(async (c, _) =>
        {
            await c.SendAsync(FakeConnection.Handshake("caching_sha2_password"));
            await c.ReadAsync();
            await c.SendAsync([0x01, 0x04]);
            await c.ReadAsync();
        });

        var e = await Assert.ThrowsAsync<MySqlException>(() => Open(server));

        Assert.Contains("AllowPublicKeyRetrieval", e.Message);
        Assert.Contains("SslMode=Required", e.Message);
    }

    [Fact]
    public async Task CachingSha2_FullAuthWithTheServersRsaKey_SendsTheEncryptedPassword()
    {
        using var rsa = RSA.Create(2048);
        string? received = null;
        await using var server = new FakeMySqlServer(async (c, _) =>
        {
            await c.SendAsync(FakeConnection.Handshake("caching_sha2_password"));
            await c.ReadAsync();
            await c.SendAsync([0x01, 0x04]);
            Assert.Equal(new byte[] { 2 }, await c.ReadAsync());
            await c.SendAsync([0x01, .. Encoding.ASCII.GetBytes(rsa.ExportSubjectPublicKeyInfoPem())]);
            var plain = rsa.Decrypt(await c.ReadAsync(), RSAEncryptionPadding.OaepSHA1);
            for (var i = 0; i < plain.Length; i++)
            {
                plain[i] ^= FakeMySqlServer.Scramble[i % 20];
            }
            received = Encoding.UTF8.GetString(plain);
            await c.SendAsync(FakeConnection.Ok);
            await c.ReadAsync();
        });

        await using var connection = await Open(server, "AllowPublicKeyRetrieval=true");

        Assert.Equal("secret\0", received);
    }

    [Fact]
    public async Task CachingSha2_FullAuthOverTls_SendsThePasswordOnlyInsideTls()
    {
        using var key = RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=fake", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        string? received = null;
        int sslRequestLength = 0;
        await using var server = new FakeMySqlServer(async (c, _) =>
        {
            await c.SendAsync(FakeConnection.Handshake("caching_sha2_password", capabilities: 0xFFFF_FFFF));
            sslRequestLength = (await c.ReadAsync()).Length;
            var tls = new System.Net.Security.SslStream(c.Stream);
            await tls.AuthenticateAsServerAsync(certificate);
            c.Stream = tls;
            await c.ReadAsync();
            await c.SendAsync([0x01, 0x04]);
            received = Encoding.UTF8.GetString(await c.ReadAsync());
            await c.SendAsync(FakeConnection.Ok);
            await c.ReadAsync();
        });

        await using var connection = await Open(server, "SslMode=Required");

        Assert.True(connection.IsEncrypted);
        Assert.Equal(32, sslRequestLength);
        Assert.Equal("secret\0", received);
    }

    [Fact]
    public async Task Cancel_ServerThatNeverAnswersEvenTheKill_CutsTheConnectionInsteadOfHanging()
    {
        var killed = false;
        await using var server = new FakeMySqlServer(async (c, number) =>
        {
            await c.SendAsync(FakeConnection.Handshake());
            await c.ReadAsync();
            await c.SendAsync(FakeConnection.Ok);
            var command = await c.ReadAsync();
            if (Encoding.UTF8.GetString(command.AsSpan(1)).StartsWith("KILL QUERY", StringComparison.Ordinal))
            {
                killed = true;
                await c.SendAsync(FakeConnection.Ok, sequence: 1);
                await c.ReadAsync();
                return;
            }
            // The first connection's query: swallowed, never answered, as over a partition.
            await Task.Delay(TimeSpan.FromSeconds(30));
        });
        await using var connection = await Open(server, "Connect Timeout=1");
        await using var command = new MySqlCommand("SELECT 1", connection);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var clock = Stopwatch.StartNew();

        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => command.ExecuteScalarAsync(cancel.Token));

        Assert.True(killed);
        Assert.Contains("did not answer", e.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Pool_AfterAConnectionDiedDuringHandshake_OpensTheNextOneFine()
    {
        await using var server = new FakeMySqlServer(async (c, number) =>
        {
            if (number == 1)
            {
                c.Stream.Close();
                return;
            }
            await c.SendAsync(FakeConnection.Handshake());
            await c.ReadAsync();
            await c.SendAsync(FakeConnection.Ok);
            while (true)
            {
                var command = await c.ReadAsync();
                if (command[0] == 0x01)
                {
                    return;
                }
                await c.SendAsync(FakeConnection.Ok);
            }
        });
        await using var source = new MySqlDataSource(server.ConnectionString());

        await Assert.ThrowsAsync<MySqlException>(() => source.OpenConnectionAsync().AsTask());
        await using var connection = await source.OpenConnectionAsync();

        Assert.Equal(System.Data.ConnectionState.Open, connection.State);
        Assert.Equal((0, 1), source.PoolSize);
    }

    private static async Task<MySqlConnection> Open(FakeMySqlServer server, string extra = "")
    {
        var connection = new MySqlConnection(server.ConnectionString("Pooling=false;" + extra));
        await connection.OpenAsync();
        return connection;
    }
}
