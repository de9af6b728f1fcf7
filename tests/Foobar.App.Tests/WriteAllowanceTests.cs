using System.Net;
using Foobar.App.Data;
using Foobar.App.Guestbook;
using Foobar.App.Limits;
using Foobar.Data;
using Foobar.Db.Schema;
using Foobar.MySql;
using Foobar.Testing;

namespace Foobar.App.Tests;

/// <summary>The write limit kept on a real MariaDB, shared by app servers as the site's primary is.</summary>
public sealed class WriteAllowanceTests : IAsyncLifetime
{
    private static readonly IPAddress Alice = IPAddress.Parse("192.0.2.1");
    private static readonly IPAddress Bob = IPAddress.Parse("2001:db8::2");

    private MariaDbServer _db = null!;
    private DbRouter _router = null!;

    public async Task InitializeAsync()
    {
        _db = await MariaDbServer.StartAsync();
        await using (var connection = new MySqlConnection(_db.ConnectionString()))
        {
            await connection.OpenAsync();
            await MigrationRunner.ApplyAsync(connection, GuestbookSchema.Migrations, CancellationToken.None);
        }
        _router = new DbRouter(new DataOptions
        {
            Nodes = [new DataNode("db1", _db.Address, _db.Port)],
            User = MariaDbServer.AppUser,
            Password = MariaDbServer.AppPassword,
            Database = DbSchema.Name,
        });
        await Eventually.TrueAsync(() => _router.Primary == "db1", "db1 discovered as the primary");
    }

    public async Task DisposeAsync()
    {
        await _router.DisposeAsync();
        await _db.DisposeAsync();
    }

    private Task<Signing> SignAsync(EntryStore store, IPAddress client, WriteLimit limit) =>
        store.AddAsync("n", "m", new Allowance(client, limit), CancellationToken.None).ContinueWith(t => t.Result.Value, TaskScheduler.Default);

    [Fact]
    public async Task ABurstUpToTheCount_IsWritten_TheNextIsRefused_WithTheTimeUntilATokenComesBack()
    {
        var store = new EntryStore(_router, "app1");
        var limit = new WriteLimit(3, TimeSpan.FromMinutes(1));

        var signings = new List<Signing>();
        for (var i = 0; i < 4; i++)
        {
            signings.Add(await SignAsync(store, Alice, limit));
        }

        Assert.All(signings.Take(3), s => Assert.NotNull(s.Id));
        Assert.Null(signings[3].Id);
        // One token every 20 s; the burst took a second at most.
        Assert.InRange(signings[3].RetryAfter, TimeSpan.FromSeconds(18), TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Clients_HaveAnAllowanceEach_IPv4AndIPv6()
    {
        var store = new EntryStore(_router, "app1");
        var limit = new WriteLimit(1, TimeSpan.FromHours(1));

        Assert.NotNull((await SignAsync(store, Alice, limit)).Id);
        Assert.Null((await SignAsync(store, Alice, limit)).Id);
        Assert.NotNull((await SignAsync(store, Bob, limit)).Id);
        Assert.Null((await SignAsync(store, Bob, limit)).Id);
    }

    [Fact]
    public async Task TwoAppServersRacing_HandOutExactlyTheCount()
    {
        var stores = new[] { new EntryStore(_router, "app1"), new EntryStore(_router, "app2") };
        var limit = new WriteLimit(5, TimeSpan.FromHours(1));

        var signings = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => Task.Run(() => SignAsync(stores[i % 2], Alice, limit))));

        Assert.Equal(5, signings.Count(s => s.Id is not null));
        await using var connection = new MySqlConnection(_db.ConnectionString());
        await connection.OpenAsync();
        await connection.ChangeDatabaseAsync(DbSchema.Name);
        await using var count = new MySqlCommand("SELECT COUNT(*) FROM entries", connection);
        Assert.Equal(5L, Convert.ToInt64(await count.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task WithoutAnAllowance_NothingIsLimited()
    {
        var store = new EntryStore(_router, "app1");

        for (var i = 0; i < 5; i++)
        {
            Assert.NotNull((await store.AddAsync("n", "m", null, CancellationToken.None)).Value.Id);
        }
    }

    [Fact]
    public async Task TokensComeBack_AndFullBucketsAreForgotten()
    {
        var store = new EntryStore(_router, "app1");
        var limit = new WriteLimit(1, TimeSpan.FromMilliseconds(300));
        Assert.NotNull((await SignAsync(store, Alice, limit)).Id);

        // The token comes back after 300 ms; the sweep (due once a period) then forgets Alice.
        await Eventually.TrueAsync(async () => (await SignAsync(store, Bob, limit)).Id is not null && await RowsAsync() == 1, "Alice forgotten, Bob alone in the table");
        await Eventually.TrueAsync(async () => (await SignAsync(store, Alice, limit)).Id is not null, "Alice's token back");
    }

    private async Task<long> RowsAsync()
    {
        await using var connection = new MySqlConnection(_db.ConnectionString());
        await connection.OpenAsync();
        await connection.ChangeDatabaseAsync(DbSchema.Name);
        await using var command = new MySqlCommand("SELECT COUNT(*) FROM write_allowance", connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
