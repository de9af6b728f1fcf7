using System.Net;
using Foobar.Db.Accounts;
using Foobar.MySql;

namespace Foobar.Db.Tests;

/// <summary>A real cluster member started with the account script: who may connect from where.</summary>
public sealed class AccountTests : IAsyncLifetime
{
    private static readonly string Block = $"127.{50 + Environment.ProcessId % 50}.252";
    private readonly string _dir = Directory.CreateTempSubdirectory("foobar-accounts-").FullName;
    private readonly IPAddress _app = IPAddress.Parse($"{Block}.7");
    private readonly IPAddress _control = IPAddress.Parse($"{Block}.254");
    private readonly IPAddress _elsewhere = IPAddress.Parse($"{Block}.100");
    private DbCredentials _credentials = null!;
    private MariaDbInstance _instance = null!;

    public async Task InitializeAsync()
    {
        _credentials = DbCredentials.LoadOrCreate(Path.Combine(_dir, "db.json"));
        var address = IPAddress.Parse($"{Block}.9");
        var initFile = Path.Combine(_dir, "init.sql");
        await File.WriteAllTextAsync(initFile, AccountScript.For(new AccountPlan("foobar", [_app], [address], _control), _credentials));
        var options = new MariaDbOptions
        {
            Directory = Path.Combine(_dir, "db1"),
            Address = address,
            ServerId = 1,
            ExtraArguments = ReplicationArguments.For(address, TimeSpan.FromSeconds(1), initFile, recoverAsReplica: false),
        };
        await MariaDbInstance.InitializeAsync(options);
        _instance = await MariaDbInstance.StartAsync(options);
    }

    [Fact]
    public async Task Admin_FromTheControlAddress_MayDoAnything_AndTheServerStartsReadOnlyWithoutLoggingAccounts()
    {
        await using var admin = await OpenAsync(DbCredentials.AdminUser, _credentials.AdminPassword, _control);

        Assert.Equal(1L, await ScalarAsync(admin, "SELECT @@read_only"));
        Assert.Equal("ROW", await ScalarAsync(admin, "SELECT @@binlog_format"));
        Assert.Equal("AFTER_SYNC", await ScalarAsync(admin, "SELECT @@rpl_semi_sync_master_wait_point"));
        // Accounts are per server: nothing of theirs is in the binary log to replicate.
        Assert.Equal("", await ScalarAsync(admin, "SELECT @@gtid_binlog_pos"));
        Assert.Equal(0L, await ScalarAsync(admin, "SELECT COUNT(*) FROM mysql.user WHERE user = '' OR (user = 'root' AND host <> 'localhost')"));
    }

    [Theory]
    [InlineData(DbCredentials.AdminUser)]
    [InlineData(DbCredentials.AppUser)]
    [InlineData(DbCredentials.ReplicationUser)]
    public async Task EveryAccount_FromAnotherAddress_IsDenied(string user)
    {
        var password = user switch
        {
            DbCredentials.AdminUser => _credentials.AdminPassword,
            DbCredentials.AppUser => _credentials.AppPassword,
            _ => _credentials.ReplicationPassword,
        };

        var e = await Assert.ThrowsAsync<MySqlException>(() => OpenAsync(user, password, _elsewhere));

        // No account of any user exists for that address at all.
        Assert.Equal(MySqlErrorCode.HostNotPrivileged, e.Number);
    }

    [Fact]
    public async Task App_FromItsAddress_SeesOnlyTheApplicationSchema()
    {
        await using (var admin = await OpenAsync(DbCredentials.AdminUser, _credentials.AdminPassword, _control))
        {
            await using var create = new MySqlCommand("SET GLOBAL read_only = 0; CREATE DATABASE foobar; CREATE TABLE foobar.t (v INT)", admin);
            await create.ExecuteNonQueryAsync();
        }
        await using var app = await OpenAsync(DbCredentials.AppUser, _credentials.AppPassword, _app);

        await using var insert = new MySqlCommand("INSERT INTO foobar.t VALUES (1)", app);
        Assert.Equal(1, await insert.ExecuteNonQueryAsync());
        await using var mysql = new MySqlCommand("SELECT COUNT(*) FROM mysql.user", app);
        var e = await Assert.ThrowsAsync<MySqlException>(() => mysql.ExecuteScalarAsync());
        Assert.Contains("denied", e.Message);
    }

    [Fact]
    public async Task Restart_WithNewPasswords_AppliesThem()
    {
        await _instance.StopAsync(TimeSpan.FromSeconds(30));
        var changed = _credentials with { AppPassword = "changed-password-1" };
        await File.WriteAllTextAsync(Path.Combine(_dir, "init.sql"),
            AccountScript.For(new AccountPlan("foobar", [_app], [_instance.Options.Address], _control), changed));
        _instance = await MariaDbInstance.StartAsync(_instance.Options);

        await using var app = await OpenAsync(DbCredentials.AppUser, "changed-password-1", _app);
        await Assert.ThrowsAsync<MySqlException>(() => OpenAsync(DbCredentials.AppUser, _credentials.AppPassword, _app));
    }

    public async Task DisposeAsync()
    {
        await _instance.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<MySqlConnection> OpenAsync(string user, string password, IPAddress from)
    {
        var connection = new MySqlConnection(new MySqlConnectionStringBuilder
        {
            Server = _instance.Options.Address.ToString(),
            UserID = user,
            Password = password,
            LocalAddress = from.ToString(),
            SslMode = MySqlSslMode.None,
            Pooling = false,
        }.ConnectionString);
        try
        {
            await connection.OpenAsync();
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task<object?> ScalarAsync(MySqlConnection connection, string sql)
    {
        await using var command = new MySqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}
