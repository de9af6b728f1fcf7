using System.Text;

namespace Foobar.Http.Front;

/// <summary>The request header names <see cref="FrontRequest"/> looks at; every other name passes on untouched.</summary>
internal static class RequestHeaders
{
    /// <summary>Any other name.</summary>
    public const int Other = -1;

    /// <summary>Host.</summary>
    public const int Host = 0;

    /// <summary>Content-Length.</summary>
    public const int ContentLength = 1;

    /// <summary>Connection.</summary>
    public const int Connection = 2;

    /// <summary>X-Forwarded-For.</summary>
    public const int ForwardedFor = 3;

    /// <summary>X-Request-Id.</summary>
    public const int RequestId = 4;

    /// <summary>Referer.</summary>
    public const int Referer = 5;

    /// <summary>User-Agent.</summary>
    public const int UserAgent = 6;

    /// <summary>X-Forwarded-Proto.</summary>
    public const int ForwardedProto = 7;

    /// <summary>X-Forwarded-Host.</summary>
    public const int ForwardedHost = 8;

    /// <summary>Transfer-Encoding, Upgrade, Expect, HTTP2-Settings: a request with one is not of the plain shape.</summary>
    public const int NotPlain = 9;

    /// <summary>The other hop-by-hop headers (RFC 9110 §7.6.1), dropped.</summary>
    public const int HopByHop = 10;

    /// <summary>Accept-Encoding.</summary>
    public const int AcceptEncoding = 11;

    /// <summary>Range and the preconditions a cache answer cannot settle: If-Range, If-Match, If-Unmodified-Since.</summary>
    public const int RangeOrPrecondition = 12;

    /// <summary>If-None-Match.</summary>
    public const int IfNoneMatch = 13;

    /// <summary>If-Modified-Since.</summary>
    public const int IfModifiedSince = 14;

    private static readonly (byte[] Name, int Index)[] Names =
    [
        .. new (string, int)[]
        {
            ("Host", Host), ("Content-Length", ContentLength), ("Connection", Connection), ("X-Forwarded-For", ForwardedFor),
            ("X-Request-Id", RequestId), ("Referer", Referer), ("User-Agent", UserAgent), ("X-Forwarded-Proto", ForwardedProto),
            ("X-Forwarded-Host", ForwardedHost), ("Transfer-Encoding", NotPlain), ("Upgrade", NotPlain), ("Expect", NotPlain),
            ("HTTP2-Settings", NotPlain), ("Keep-Alive", HopByHop), ("Proxy-Connection", HopByHop), ("TE", HopByHop),
            ("Trailer", HopByHop), ("Proxy-Authorization", HopByHop), ("Proxy-Authenticate", HopByHop),
            ("Accept-Encoding", AcceptEncoding), ("Range", RangeOrPrecondition), ("If-Range", RangeOrPrecondition), ("If-Match", RangeOrPrecondition),
            ("If-Unmodified-Since", RangeOrPrecondition), ("If-None-Match", IfNoneMatch), ("If-Modified-Since", IfModifiedSince),
        }.Select(n => (Encoding.ASCII.GetBytes(n.Item1), n.Item2)),
    ];

    /// <summary>The index of <paramref name="name"/> (any case), or <see cref="Other"/>.</summary>
    public static int IndexOf(ReadOnlySpan<byte> name)
    {
        foreach (var (known, index) in Names)
        {
            if (known.Length == name.Length && Ascii.EqualsIgnoreCase(name, known))
            {
                return index;
            }
        }
        return Other;
    }

    /// <summary>Whether a header of index <paramref name="index"/> is left out of the forwarded request (X-Forwarded-For is written anew).</summary>
    public static bool IsDropped(int index) => index is Connection or ForwardedFor or HopByHop;
}
