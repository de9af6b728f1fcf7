using System.Globalization;

namespace Foobar.Topology.Loading;

/// <summary>
/// Sizes as people write them in configuration: <c>512</c> (bytes), <c>64k</c>, <c>500MB</c>,
/// <c>1g</c>. Units are powers of 1024, as in Nginx and HAProxy; case does not matter.
/// </summary>
public static class SizeText
{
    private static readonly (string Unit, long Scale)[] Units =
    [
        ("kb", 1L << 10), ("mb", 1L << 20), ("gb", 1L << 30), ("tb", 1L << 40),
        ("k", 1L << 10), ("m", 1L << 20), ("g", 1L << 30), ("t", 1L << 40),
        ("b", 1),
    ];

    /// <summary>Parses a whole number of bytes, optionally followed by a unit.</summary>
    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        var trimmed = text.Trim();
        var (unit, scale) = Units.FirstOrDefault(u => trimmed.EndsWith(u.Unit, StringComparison.OrdinalIgnoreCase), (Unit: "", Scale: 1L));
        var number = trimmed.AsSpan(0, trimmed.Length - unit.Length).TrimEnd();
        if (!long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count > long.MaxValue / scale)
        {
            return false;
        }
        bytes = count * scale;
        return true;
    }

    /// <summary>A size for people: <c>512 B</c>, <c>12.3 MB</c>, <c>1.5 GB</c>.</summary>
    public static string Format(long bytes) => bytes switch
    {
        < 1L << 10 => $"{bytes} B",
        < 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KB"),
        < 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.#} GB"),
    };
}
