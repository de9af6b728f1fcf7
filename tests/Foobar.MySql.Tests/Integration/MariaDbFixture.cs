using Foobar.Testing;

namespace Foobar.MySql.Tests.Integration;

/// <summary>One real MariaDB per test class that asks for it.</summary>
public sealed class MariaDbFixture : IAsyncLifetime
{
    public MariaDbServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await MariaDbServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();

    public async Task<MySqlConnection> OpenAsync(string extra = "")
    {
        var connection = new MySqlConnection(Server.ConnectionString(extra: extra));
        await connection.OpenAsync();
        return connection;
    }
}
