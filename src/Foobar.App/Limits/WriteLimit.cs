namespace Foobar.App.Limits;

/// <summary>
/// At most <see cref="Count"/> guestbook entries per <see cref="Period"/> from one client, in any
/// burst within that: a token bucket of <see cref="Count"/> tokens, one coming back every
/// <see cref="Interval"/>. Kept on the db primary (table <c>write_allowance</c>), so it holds for
/// the site as a whole, whichever app server a request reaches.
/// </summary>
/// <param name="Count">Entries per period; at least 1.</param>
/// <param name="Period">The period.</param>
public sealed record WriteLimit(int Count, TimeSpan Period)
{
    /// <summary>How long one token takes to come back.</summary>
    public TimeSpan Interval => Period / Count;

    /// <summary>The limit as a sentence's end: "3 entries a minute".</summary>
    public string Describe() => $"{Count} {(Count == 1 ? "entry" : "entries")} " + (
        Period == TimeSpan.FromSeconds(1) ? "a second"
        : Period == TimeSpan.FromMinutes(1) ? "a minute"
        : Period == TimeSpan.FromHours(1) ? "an hour"
        : $"every {Period.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)} s");
}
