using System.Data.Common;
using Foobar.App.Limits;
using Foobar.Data;
using Foobar.MySql;

namespace Foobar.App.Guestbook;

/// <summary>The guestbook's SQL, through <see cref="DbRouter"/>: writes on the primary, reads on replicas.</summary>
public sealed class EntryStore(DbRouter db, string serverName)
{
    private const string Columns = "id, name, message, created_at, written_by";

    /// <summary>The db servers the router reached last (primary or replica); empty when none answers.</summary>
    public IReadOnlyList<string> ReachableServers => db.Reachable;

    /// <summary>The db server this app server writes to now, as its router last saw; null when none is writable.</summary>
    public string? Primary => db.Primary;

    /// <summary>How many entries the guestbook holds.</summary>
    public Task<DbResult<long>> CountAsync(string? afterGtid, CancellationToken cancellationToken) =>
        db.ReadAsync(async (connection, ct) =>
        {
            await using var command = new MySqlCommand("SELECT COUNT(*) FROM entries", connection);
            return Convert.ToInt64(await command.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        }, afterGtid, cancellationToken);

    /// <summary>
    /// Adds an entry, first taking one of the client's tokens when <paramref name="allowance"/> is
    /// given; the result carries the entry's GTID for read-your-writes, or how long until the
    /// client may write again (and no entry).
    /// </summary>
    public Task<DbResult<Signing>> AddAsync(string name, string message, Allowance? allowance, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, ct) =>
        {
            if (allowance is { } a)
            {
                await SweepWhenDueAsync(connection, a.Limit, ct).ConfigureAwait(false);
                var retryAfter = await AllowanceTable.TakeAsync(connection, a.Client, a.Limit, ct).ConfigureAwait(false);
                if (retryAfter > TimeSpan.Zero)
                {
                    return new Signing(null, retryAfter);
                }
            }
            await using var command = new MySqlCommand("INSERT INTO entries (name, message, written_by) VALUES (@name, @message, @server)", connection);
            command.Parameters.AddWithValue("@name", name);
            command.Parameters.AddWithValue("@message", message);
            command.Parameters.AddWithValue("@server", serverName);
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            return new Signing(command.LastInsertedId, TimeSpan.Zero);
        }, cancellationToken);

    /// <summary>Once a period from each app server: clients whose bucket is full again are forgotten.</summary>
    private async Task SweepWhenDueAsync(MySqlConnection connection, WriteLimit limit, CancellationToken cancellationToken)
    {
        var now = Environment.TickCount64;
        var due = Interlocked.Read(ref _nextSweep);
        if (now >= due && Interlocked.CompareExchange(ref _nextSweep, now + (long)limit.Period.TotalMilliseconds, due) == due)
        {
            await AllowanceTable.SweepAsync(connection, cancellationToken).ConfigureAwait(false);
        }
    }

    private long _nextSweep;

    /// <summary>The newest entries, newest first; with <paramref name="before"/>, the newest older than that id (the next page).</summary>
    public Task<DbResult<IReadOnlyList<Entry>>> LatestAsync(int limit, string? afterGtid, CancellationToken cancellationToken, long? before = null) =>
        db.ReadAsync<IReadOnlyList<Entry>>(async (connection, ct) =>
        {
            await using var command = new MySqlCommand(
                $"SELECT {Columns} FROM entries {(before is null ? "" : "WHERE id < @before ")}ORDER BY id DESC LIMIT @limit", connection);
            command.Parameters.AddWithValue("@limit", limit);
            if (before is not null)
            {
                command.Parameters.AddWithValue("@before", before.Value);
            }
            return await ReadAllAsync(command, ct).ConfigureAwait(false);
        }, afterGtid, cancellationToken);

    /// <summary>One entry, or null.</summary>
    public Task<DbResult<Entry?>> FindAsync(long id, string? afterGtid, CancellationToken cancellationToken) =>
        db.ReadAsync(async (connection, ct) =>
        {
            await using var command = new MySqlCommand($"SELECT {Columns} FROM entries WHERE id = @id", connection);
            command.Parameters.AddWithValue("@id", id);
            return (await ReadAllAsync(command, ct).ConfigureAwait(false)).FirstOrDefault();
        }, afterGtid, cancellationToken);

    private static async Task<List<Entry>> ReadAllAsync(MySqlCommand command, CancellationToken cancellationToken)
    {
        var entries = new List<Entry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            entries.Add(Read(reader));
        }
        return entries;
    }

    private static Entry Read(DbDataReader reader) => new(
        reader.GetInt64(0), reader.GetString(1), reader.GetString(2), DateTime.SpecifyKind(reader.GetDateTime(3), DateTimeKind.Utc), reader.GetString(4));
}
