using System.Text;

namespace Foobar.Http.Forwarder.Http1;

/// <summary>
/// Response header names seen often enough to keep one string for each: a response's names then
/// cost no allocation, and <see cref="ResponseHead"/> keeps the last value of each per connection.
/// </summary>
internal static class KnownHeaders
{
    /// <summary>Index of Content-Length.</summary>
    public const int ContentLength = 0;

    /// <summary>Index of Transfer-Encoding.</summary>
    public const int TransferEncoding = 1;

    /// <summary>Index of Connection.</summary>
    public const int Connection = 2;

    /// <summary>Index of X-Served-By.</summary>
    public const int ServedBy = 3;

    /// <summary>Index of X-Request-Id.</summary>
    public const int RequestId = 4;

    /// <summary>What <see cref="IndexOf"/> returns for the other hop-by-hop headers, which are dropped.</summary>
    public const int HopByHop = -2;

    /// <summary>What <see cref="IndexOf"/> returns for a name not in the table.</summary>
    public const int Unknown = -1;

    /// <summary>The names, as they are written on.</summary>
    public static readonly string[] Names =
    [
        "Content-Length", "Transfer-Encoding", "Connection", Http.ServedBy.HeaderName, ForwardedHeaders.RequestIdHeader,
        "Content-Type", "Date", "Server", "Last-Modified", "ETag", "Accept-Ranges", "Cache-Control",
        "Expires", "Vary", "Content-Encoding", "Location", "Set-Cookie",
        "Content-Language", "Age", "Content-Range", "Strict-Transport-Security", "Access-Control-Allow-Origin",
        "X-Content-Type-Options", "Content-Disposition", "Referrer-Policy", "X-Frame-Options",
        "Content-Security-Policy", "Retry-After", "WWW-Authenticate", "Link", "Pragma", "Alt-Svc",
    ];

    private static readonly byte[][] NameBytes = [.. Names.Select(Encoding.ASCII.GetBytes)];

    private static readonly byte[][] HopByHopNames =
        [.. new[] { "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "TE", "Trailer", "Upgrade" }.Select(Encoding.ASCII.GetBytes)];

    /// <summary>The name of index <paramref name="known"/> as it is written on.</summary>
    public static ReadOnlySpan<byte> NameBytesOf(int known) => NameBytes[known];

    /// <summary>The number of names in the table.</summary>
    public static int Count => Names.Length;

    /// <summary>The index of <paramref name="name"/> (any case) in <see cref="Names"/>, <see cref="HopByHop"/> or <see cref="Unknown"/>.</summary>
    public static int IndexOf(ReadOnlySpan<byte> name)
    {
        for (var i = 0; i < NameBytes.Length; i++)
        {
            if (NameBytes[i].Length == name.Length && Ascii.EqualsIgnoreCase(name, NameBytes[i]))
            {
                return i;
            }
        }
        foreach (var hop in HopByHopNames)
        {
            if (hop.Length == name.Length && Ascii.EqualsIgnoreCase(name, hop))
            {
                return HopByHop;
            }
        }
        return Unknown;
    }
}
