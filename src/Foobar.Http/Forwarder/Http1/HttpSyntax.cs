using System.Buffers;

namespace Foobar.Http.Forwarder.Http1;

/// <summary>Character classes of HTTP/1.1's grammar shared by the parsers of request and response heads.</summary>
internal static class HttpSyntax
{
    /// <summary>RFC 9110 tchar: what a header name is made of.</summary>
    public static readonly SearchValues<byte> TokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);
}
