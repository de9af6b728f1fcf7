using System.Globalization;

namespace Foobar.Topology.Loading;

/// <summary>Durations as people write them in configuration: <c>500ms</c>, <c>2s</c>, <c>1m</c>.</summary>
public static class DurationText
{
    /// <summary>Parses a number followed by <c>ms</c>, <c>s</c> or <c>m</c>.</summary>
    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = default;
        var (unit, scale) = text.EndsWith("ms", StringComparison.Ordinal) ? ("ms", 1.0)
            : text.EndsWith('s') ? ("s", 1000.0)
            : text.EndsWith('m') ? ("m", 60_000.0)
            : ("", 0);
        if (scale == 0 || !double.TryParse(text.AsSpan(0, text.Length - unit.Length), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }
        duration = TimeSpan.FromMilliseconds(number * scale);
        return true;
    }
}
