using System.Globalization;

namespace Foobar.Web.Static;

/// <summary>
/// Reads a request's Accept-Encoding (RFC 9110 §12.5.3) for the two codings a site's files come
/// in. Lenient with anything odd (unknown codings, malformed weights, absurd lengths): what it
/// cannot read counts as not accepted, so the worst outcome is an uncompressed response.
/// </summary>
public static class AcceptEncoding
{
    /// <summary>Entries past this many are not looked at.</summary>
    private const int MaxEntries = 32;

    /// <summary>Whether <paramref name="header"/> accepts <paramref name="coding"/> (<c>br</c>, <c>gzip</c>) with a weight above zero.</summary>
    public static bool Accepts(ReadOnlySpan<char> header, string coding)
    {
        var wildcard = false;
        var entries = 0;
        foreach (var range in header.Split(','))
        {
            if (++entries > MaxEntries)
            {
                break;
            }
            var entry = header[range];
            var semicolon = entry.IndexOf(';');
            var name = (semicolon < 0 ? entry : entry[..semicolon]).Trim();
            var weight = semicolon < 0 ? 1 : WeightOf(entry[(semicolon + 1)..]);
            if (name.Equals(coding, StringComparison.OrdinalIgnoreCase))
            {
                return weight > 0;
            }
            if (name is "*")
            {
                wildcard = weight > 0;
            }
        }
        return wildcard;
    }

    /// <summary>The <c>q</c> parameter's value; 0 when malformed.</summary>
    private static double WeightOf(ReadOnlySpan<char> parameters)
    {
        var parameter = parameters.Trim();
        if (parameter.Length < 2 || (parameter[0] is not ('q' or 'Q')) || parameter[1] != '=')
        {
            return 0;
        }
        return double.TryParse(parameter[2..], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var q) && q is >= 0 and <= 1 ? q : 0;
    }
}
