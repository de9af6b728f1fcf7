using System.Globalization;

namespace Foobar.Topology.Loading;

/// <summary>
/// Rates as people write them in configuration: <c>20/min</c>, <c>5/s</c>, <c>100/h</c> — a
/// whole number of events per second, minute or hour.
/// </summary>
public static class RateText
{
    private static readonly (string Unit, TimeSpan Period)[] Units =
    [
        ("s", TimeSpan.FromSeconds(1)), ("sec", TimeSpan.FromSeconds(1)),
        ("m", TimeSpan.FromMinutes(1)), ("min", TimeSpan.FromMinutes(1)),
        ("h", TimeSpan.FromHours(1)), ("hour", TimeSpan.FromHours(1)),
    ];

    /// <summary>Parses <c>COUNT/UNIT</c> with a positive count.</summary>
    public static bool TryParse(string text, out RateLimit rate)
    {
        rate = default;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !int.TryParse(text.AsSpan(0, slash).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1)
        {
            return false;
        }
        var unit = text[(slash + 1)..].Trim();
        foreach (var (name, period) in Units)
        {
            if (unit.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                rate = new RateLimit(count, period);
                return true;
            }
        }
        return false;
    }
}
