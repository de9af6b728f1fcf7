using System.Net;
using Foobar.MySql;

namespace Foobar.App.Limits;

/// <summary>
/// The <c>write_allowance</c> table on the primary: for each client, the time its bucket is full
/// again (the generic cell rate algorithm's theoretical arrival time). Taking a token is one
/// conditional UPDATE, atomic under the row lock, so two app servers never both hand out the last one.
/// </summary>
internal static class AllowanceTable
{
    /// <summary>
    /// Takes one of <paramref name="client"/>'s tokens: <see cref="TimeSpan.Zero"/> when taken,
    /// otherwise how long until one comes back (at least a microsecond).
    /// </summary>
    public static async Task<TimeSpan> TakeAsync(MySqlConnection connection, IPAddress client, WriteLimit limit, CancellationToken cancellationToken)
    {
        // Writes of one client racing on two app servers can deadlock InnoDB on the row and its
        // index; the loser's statement is rolled back whole, so it is simply tried again.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryTakeAsync(connection, client, limit, cancellationToken).ConfigureAwait(false);
            }
            catch (MySqlException e) when (e.Number == DeadlockError && attempt < MaxAttempts)
            {
            }
        }
    }

    /// <summary>ER_LOCK_DEADLOCK.</summary>
    private const int DeadlockError = 1213;

    /// <summary>Tries of a token before a deadlock is let through: InnoDB picks its victim at once, so each is cheap; 5 were not enough for twelve writes of one client racing on each of two app servers.</summary>
    private const int MaxAttempts = 20;

    private static async Task<TimeSpan> TryTakeAsync(MySqlConnection connection, IPAddress client, WriteLimit limit, CancellationToken cancellationToken)
    {
        var key = client.GetAddressBytes();
        await ExecuteAsync(connection, "INSERT IGNORE INTO write_allowance (client, full_at) VALUES (@client, '2000-01-01')", key, limit, cancellationToken).ConfigureAwait(false);
        // With FOUND_ROWS (the client's default) the count is of rows matched: 1 when a token was left.
        var taken = await ExecuteAsync(connection, """
            UPDATE write_allowance SET full_at = GREATEST(full_at, NOW(6)) + INTERVAL @interval MICROSECOND
            WHERE client = @client AND GREATEST(full_at, NOW(6)) + INTERVAL @interval MICROSECOND <= NOW(6) + INTERVAL @period MICROSECOND
            """, key, limit, cancellationToken).ConfigureAwait(false);
        if (taken == 1)
        {
            return TimeSpan.Zero;
        }
        await using var command = new MySqlCommand("SELECT TIMESTAMPDIFF(MICROSECOND, NOW(6), full_at) FROM write_allowance WHERE client = @client", connection);
        command.Parameters.AddWithValue("@client", key);
        var untilFull = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        return TimeSpan.FromMicroseconds(Math.Max(1, untilFull + Micros(limit.Interval) - Micros(limit.Period)));
    }

    /// <summary>
    /// Forgets clients whose bucket is full again: the same as never having seen them. Housekeeping:
    /// a sweep that loses a deadlock to the writes it races (it scans and locks the rows) is rolled
    /// back whole and skipped (0), never failing the write that ran it; a later one forgets them.
    /// </summary>
    public static async Task<int> SweepAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand("DELETE FROM write_allowance WHERE full_at < NOW(6)", connection);
        try
        {
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (MySqlException e) when (e.Number == DeadlockError)
        {
            return 0;
        }
    }

    private static async Task<int> ExecuteAsync(MySqlConnection connection, string sql, byte[] client, WriteLimit limit, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(sql, connection);
        command.Parameters.AddWithValue("@client", client);
        command.Parameters.AddWithValue("@interval", Micros(limit.Interval));
        command.Parameters.AddWithValue("@period", Micros(limit.Period));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static long Micros(TimeSpan span) => span.Ticks / 10;
}
