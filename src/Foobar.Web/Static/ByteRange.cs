namespace Foobar.Web.Static;

/// <summary>
/// One byte range of a Range header (RFC 9110 §14.2). Only a single range is served; a header
/// with several, or one that cannot be read, is ignored and the whole file sent, as the RFC allows.
/// </summary>
/// <param name="Start">The first byte.</param>
/// <param name="Length">How many bytes.</param>
public readonly record struct ByteRange(long Start, long Length)
{
    /// <summary>What a Range header asks of a representation of <c>length</c> bytes.</summary>
    public enum Outcome
    {
        /// <summary>No usable Range: send everything (200).</summary>
        Whole,

        /// <summary>One satisfiable range (206).</summary>
        Partial,

        /// <summary>A well-formed range that starts past the end (416).</summary>
        Unsatisfiable,
    }

    /// <summary>Reads <paramref name="header"/> against a representation of <paramref name="length"/> bytes.</summary>
    public static Outcome Parse(ReadOnlySpan<char> header, long length, out ByteRange range)
    {
        range = default;
        header = header.Trim();
        if (!header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase))
        {
            return Outcome.Whole;
        }
        var spec = header["bytes=".Length..].Trim();
        if (spec.Contains(',') || spec.Length > 40)
        {
            return Outcome.Whole;
        }
        var dash = spec.IndexOf('-');
        if (dash < 0)
        {
            return Outcome.Whole;
        }
        var first = spec[..dash].Trim();
        var last = spec[(dash + 1)..].Trim();
        if (first.IsEmpty)
        {
            // bytes=-N: the last N bytes.
            if (!TryDigits(last, out var suffix))
            {
                return Outcome.Whole;
            }
            if (suffix == 0 || length == 0)
            {
                return Outcome.Unsatisfiable;
            }
            var take = Math.Min(suffix, length);
            range = new ByteRange(length - take, take);
            return Outcome.Partial;
        }
        if (!TryDigits(first, out var start))
        {
            return Outcome.Whole;
        }
        var end = length - 1;
        if (!last.IsEmpty)
        {
            if (!TryDigits(last, out end) || end < start)
            {
                return Outcome.Whole;
            }
        }
        if (start >= length)
        {
            return Outcome.Unsatisfiable;
        }
        end = Math.Min(end, length - 1);
        range = new ByteRange(start, end - start + 1);
        return Outcome.Partial;
    }

    private static bool TryDigits(ReadOnlySpan<char> text, out long value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 18)
        {
            return false;
        }
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
            value = (value * 10) + (c - '0');
        }
        return true;
    }
}
