using System.Globalization;

namespace Foobar.Db.Replication;

/// <summary>One MariaDB GTID: replication domain, originating server, sequence number (<c>0-1-42</c>).</summary>
public readonly record struct Gtid(uint Domain, uint ServerId, ulong Sequence)
{
    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Domain}-{ServerId}-{Sequence}");
}

/// <summary>
/// A GTID position: the last GTID of each replication domain (<c>@@gtid_current_pos</c>, a
/// replica's <c>Gtid_IO_Pos</c>). With <c>gtid_strict_mode</c> sequence numbers only grow within a
/// domain, so one position holds another when it is at least as far in every domain.
/// </summary>
public sealed class GtidPosition : IEquatable<GtidPosition>
{
    private readonly SortedDictionary<uint, Gtid> _domains;

    private GtidPosition(SortedDictionary<uint, Gtid> domains)
    {
        _domains = domains;
    }

    /// <summary>The empty position: a server that has no transaction yet.</summary>
    public static GtidPosition Empty { get; } = new([]);

    /// <summary>The last GTID of each domain.</summary>
    public IEnumerable<Gtid> Gtids => _domains.Values;

    /// <summary>Transactions counted over every domain: a rough "how far" for people.</summary>
    public ulong Total => _domains.Values.Aggregate(0UL, (sum, g) => sum + g.Sequence);

    /// <summary>Parses <c>0-1-42,1-2-7</c> (empty text is <see cref="Empty"/>).</summary>
    /// <exception cref="FormatException">Not a GTID list; the message quotes it.</exception>
    public static GtidPosition Parse(string? text)
    {
        var domains = new SortedDictionary<uint, Gtid>();
        foreach (var part in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = part.Split('-');
            if (fields.Length != 3
                || !uint.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var domain)
                || !uint.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var server)
                || !ulong.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
            {
                throw new FormatException($"'{part}' in GTID position '{text}' is not DOMAIN-SERVER-SEQUENCE");
            }
            if (!domains.TryAdd(domain, new Gtid(domain, server, sequence)))
            {
                throw new FormatException($"GTID position '{text}' names domain {domain} twice");
            }
        }
        return domains.Count == 0 ? Empty : new GtidPosition(domains);
    }

    /// <summary>Whether every transaction of <paramref name="other"/> is also in this position.</summary>
    public bool Contains(GtidPosition other) =>
        other._domains.Values.All(g => _domains.TryGetValue(g.Domain, out var mine) && mine.Sequence >= g.Sequence);

    /// <summary>Orders positions for choosing the most advanced replica: containment first, then the total.</summary>
    public static int CompareProgress(GtidPosition a, GtidPosition b) =>
        a.Equals(b) ? 0
        : a.Contains(b) ? 1
        : b.Contains(a) ? -1
        : a.Total.CompareTo(b.Total);

    /// <inheritdoc />
    public bool Equals(GtidPosition? other) => other is not null && _domains.Values.SequenceEqual(other._domains.Values);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as GtidPosition);

    /// <inheritdoc />
    public override int GetHashCode() => _domains.Values.Aggregate(0, HashCode.Combine);

    /// <inheritdoc />
    public override string ToString() => string.Join(",", _domains.Values);
}
