using System.Data.Common;

namespace Foobar.MySql;

/// <summary>The ADO.NET provider factory (register it with DbProviderFactories as "Foobar.MySql").</summary>
public sealed class MySqlClientFactory : DbProviderFactory
{
    /// <summary>The one instance.</summary>
    public static readonly MySqlClientFactory Instance = new();

    private MySqlClientFactory()
    {
    }

    /// <inheritdoc />
    public override DbCommand CreateCommand() => new MySqlCommand();

    /// <inheritdoc />
    public override DbConnection CreateConnection() => new MySqlConnection();

    /// <inheritdoc />
    public override DbConnectionStringBuilder CreateConnectionStringBuilder() => new MySqlConnectionStringBuilder();

    /// <inheritdoc />
    public override DbParameter CreateParameter() => new MySqlParameter();

    /// <inheritdoc />
    public override DbDataSource CreateDataSource(string connectionString) => new MySqlDataSource(connectionString);
}
