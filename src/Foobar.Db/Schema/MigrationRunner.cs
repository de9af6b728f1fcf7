using Foobar.MySql;

namespace Foobar.Db.Schema;

/// <summary>
/// Applies migrations on the primary, each once: the versions applied are recorded in
/// <c>schema_migrations</c>, which replicates with everything else, so a promoted replica knows
/// what its predecessor applied. A named lock keeps two runners from racing.
/// </summary>
public static class MigrationRunner
{
    /// <summary>Applies what <paramref name="connection"/>'s server lacks, in version order.</summary>
    /// <returns>The migrations applied now (empty when the schema was current).</returns>
    /// <exception cref="ArgumentException">Versions are not 1, 2, 3 … without gaps or repeats.</exception>
    /// <exception cref="MySqlException">A migration failed; the message names it. Earlier ones stay applied.</exception>
    public static async Task<IReadOnlyList<Migration>> ApplyAsync(MySqlConnection connection, IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
            {
                throw new ArgumentException($"migration '{migrations[i].Name}' has version {migrations[i].Version}, expected {i + 1}: versions run 1, 2, 3 … in order", nameof(migrations));
            }
        }
        await ExecuteAsync(connection, $"CREATE DATABASE IF NOT EXISTS `{DbSchema.Name}`; USE `{DbSchema.Name}`; " +
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INT PRIMARY KEY, name VARCHAR(200) NOT NULL, applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))",
            cancellationToken).ConfigureAwait(false);
        if (Convert.ToInt64(await ScalarAsync(connection, "SELECT GET_LOCK('foobar_migrations', 30)", cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) != 1)
        {
            throw new TimeoutException("another migration runner held the lock for 30 s");
        }
        try
        {
            var current = Convert.ToInt32(await ScalarAsync(connection, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
            var applied = new List<Migration>();
            foreach (var migration in migrations.Where(m => m.Version > current))
            {
                try
                {
                    await ExecuteAsync(connection, migration.Sql, cancellationToken).ConfigureAwait(false);
                }
                catch (MySqlException e)
                {
                    throw new MySqlException(e.Number, e.SqlState, $"migration {migration.Version} ({migration.Name}) failed: {e.Message}", e.IsTransient, e);
                }
                await using var record = new MySqlCommand("INSERT INTO schema_migrations (version, name) VALUES (@version, @name)", connection);
                record.Parameters.AddWithValue("@version", migration.Version);
                record.Parameters.AddWithValue("@name", migration.Name);
                await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                applied.Add(migration);
            }
            return applied;
        }
        finally
        {
            await ScalarAsync(connection, "SELECT RELEASE_LOCK('foobar_migrations')", CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static async Task ExecuteAsync(MySqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<object?> ScalarAsync(MySqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }
}
