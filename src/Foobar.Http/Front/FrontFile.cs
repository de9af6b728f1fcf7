using System.Globalization;
using System.Text;
using Foobar.Http.Transport;

namespace Foobar.Http.Front;

/// <summary>
/// A file's whole answer as <see cref="Http1Front"/> sends it: <c>200 OK</c> (or a <c>304</c>), the headers that
/// are the same every time (type, length, validators, caching), rendered once, and the bytes kept
/// in memory. The front adds Date, X-Served-By and Connection; a large body is sent with
/// <c>sendfile</c> from a sealed memory file holding it (nginx's <c>sendfile</c> from the page
/// cache), or where there is none, from this array as it is, without a copy into the connection's buffer.
/// </summary>
public sealed class FrontFile
{
    /// <summary>Bodies from this size on are sent as they are (<c>sendfile</c> from <see cref="Sealed"/>, or from the array); smaller ones are copied into the connection's block with the head (one send).</summary>
    public const int MinUnownedBody = 16 * 1024;

    /// <summary>A <c>200 OK</c> of <paramref name="body"/> with <paramref name="headers"/> (no Content-Length: it is added).</summary>
    /// <param name="body">The bytes; they must never change afterwards.</param>
    /// <param name="headers">Names and values, ASCII; a null value leaves the header out.</param>
    public FrontFile(ReadOnlyMemory<byte> body, params IEnumerable<(string Name, string? Value)> headers)
        : this(200, body, headers)
    {
    }

    private FrontFile(int status, ReadOnlyMemory<byte> body, IEnumerable<(string Name, string? Value)> headers)
    {
        Status = status;
        var text = new StringBuilder();
        foreach (var (name, value) in headers)
        {
            if (value is not null)
            {
                text.Append(name).Append(": ").Append(value).Append("\r\n");
            }
        }
        if (status != 304)
        {
            text.Append(CultureInfo.InvariantCulture, $"Content-Length: {body.Length}\r\n");
        }
        Headers = Encoding.Latin1.GetBytes(text.ToString());
        Body = body;
        if (body.Length >= MinUnownedBody)
        {
            Sealed = SealedFile.Create("foobar-front-file", body.Span);
        }
    }

    /// <summary>A <c>304 Not Modified</c> with <paramref name="headers"/> (the validators and caching headers), no body and no Content-Length.</summary>
    public static FrontFile NotModified(params IEnumerable<(string Name, string? Value)> headers) => new(304, default, headers);

    /// <summary>200, or 304.</summary>
    public int Status { get; }

    /// <summary>The header lines, each ending in CRLF.</summary>
    public ReadOnlyMemory<byte> Headers { get; }

    /// <summary>The body.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>A large body's copy in a sealed memory file, which Foobar's transport sends with <c>sendfile</c>; null for a small body or where none can be made.</summary>
    internal SealedFile? Sealed { get; }
}
