using System.Buffers;
using System.Text;

namespace Foobar.Http.Forwarder.Http1;

/// <summary>
/// The status line and header section of a backend's HTTP/1.x response, parsed strictly: a
/// response that could be read two ways (conflicting lengths, a length beside a transfer coding,
/// folded or malformed lines) is refused rather than guessed at. One per connection, reused.
/// </summary>
internal sealed class ResponseHead
{
    /// <summary>A larger head is refused: HAProxy's buffer is 16 KB, nginx's proxy buffer 4–8 KB.</summary>
    public const int MaxSize = 64 * 1024;

    private readonly string?[] _lastValues = new string?[KnownHeaders.Count];

    /// <summary>The end-to-end header lines as they go on, <c>Name: value</c> and CRLF each (see <see cref="Lines"/>).</summary>
    private byte[] _lines = new byte[1024];
    private int _linesLength;
    /// <summary>Where each of those lines starts, how long its name is, and its <see cref="KnownHeaders"/> index.</summary>
    private readonly List<(int Start, int NameLength, int Known)> _lineIndex = [];
    private readonly List<KeyValuePair<string, string>> _headers = [];
    private bool _headersMade;

    /// <summary>X-Served-By's value as received; <c>_servedByLength</c> is -1 when the backend sent none.</summary>
    private byte[] _servedBy = new byte[64];
    private int _servedByLength = -1;
    private string? _servedByText;

    /// <summary>The status code.</summary>
    public int Status { get; private set; }

    /// <summary>How the body ends.</summary>
    public BodyFraming Framing { get; private set; }

    /// <summary>The body's length, with <see cref="BodyFraming.ContentLength"/>.</summary>
    public long ContentLength { get; private set; }

    /// <summary>Whether the connection may carry another request after this response.</summary>
    public bool KeepAlive { get; private set; }

    /// <summary>Whether the end-to-end headers include an X-Request-Id.</summary>
    public bool HasRequestId { get; private set; }

    /// <summary>
    /// The end-to-end header lines, ready to go on as they are: <c>Name: value</c> and CRLF each, in
    /// the order received, hop-by-hop ones, the framing and X-Served-By left out; a known name
    /// spelt as <see cref="KnownHeaders.Names"/> has it, any other as received, the value without
    /// the spaces around it. Valid until the next parse.
    /// </summary>
    public ReadOnlySpan<byte> Lines => _lines.AsSpan(0, _linesLength);

    /// <summary>The X-Served-By value the backend sent, as bytes; empty when it sent none (or an empty one).</summary>
    public ReadOnlySpan<byte> ServedByBytes => _servedBy.AsSpan(0, Math.Max(_servedByLength, 0));

    /// <summary>The servers the backend reported in <c>X-Served-By</c>; null when it sent none.</summary>
    public string? ServedBy => _servedByLength < 0 ? null : _servedByText ??= Encoding.Latin1.GetString(ServedByBytes);

    /// <summary>
    /// <see cref="Lines"/> as name and value strings, made on first use after each parse (the
    /// forwarder's Kestrel path wants them; the front passes the bytes on); a known header's value
    /// is the same string as last time on this connection when its bytes are the same.
    /// </summary>
    public List<KeyValuePair<string, string>> Headers
    {
        get
        {
            if (!_headersMade)
            {
                _headersMade = true;
                foreach (var (start, nameLength, known) in _lineIndex)
                {
                    var line = _lines.AsSpan(start);
                    var value = line[(nameLength + 2)..line.IndexOf("\r\n"u8)];
                    var name = known >= 0 ? KnownHeaders.Names[known] : Encoding.Latin1.GetString(line[..nameLength]);
                    _headers.Add(new(name, ValueOf(known, value)));
                }
            }
            return _headers;
        }
    }

    /// <summary>
    /// Parses a head from the start of <paramref name="buffer"/>. False when the head is not
    /// complete yet; true with <paramref name="consumed"/> set past its blank line.
    /// </summary>
    /// <param name="buffer">Bytes received so far.</param>
    /// <param name="requestWasHead">Whether the request was HEAD, whose response has no body whatever its headers say.</param>
    /// <param name="consumed">Where the body starts.</param>
    /// <exception cref="HttpRequestException">With <see cref="HttpRequestError.InvalidResponse"/>: malformed, ambiguous or over <see cref="MaxSize"/>.</exception>
    public bool TryParse(ReadOnlySequence<byte> buffer, bool requestWasHead, out SequencePosition consumed)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> head, "\r\n\r\n"u8, advancePastDelimiter: true))
        {
            consumed = default;
            return buffer.Length <= MaxSize ? false : throw Invalid($"a response head larger than {MaxSize / 1024} KB");
        }
        if (head.Length > MaxSize)
        {
            throw Invalid($"a response head larger than {MaxSize / 1024} KB");
        }
        consumed = reader.Position;
        if (head.IsSingleSegment)
        {
            Parse(head.FirstSpan, requestWasHead);
            return true;
        }
        var copy = ArrayPool<byte>.Shared.Rent((int)head.Length);
        try
        {
            head.CopyTo(copy);
            Parse(copy.AsSpan(0, (int)head.Length), requestWasHead);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
        return true;
    }

    private void Parse(ReadOnlySpan<byte> head, bool requestWasHead)
    {
        _linesLength = 0;
        _lineIndex.Clear();
        _headers.Clear();
        _headersMade = false;
        _servedByLength = -1;
        _servedByText = null;
        HasRequestId = false;
        var end = head.IndexOf("\r\n"u8);
        var statusLine = end < 0 ? head : head[..end];
        var http11 = ParseStatusLine(statusLine);
        long contentLength = -1;
        string? transferEncoding = null;
        string? connection = null;
        var rest = end < 0 ? [] : head[(end + 2)..];
        while (!rest.IsEmpty)
        {
            end = rest.IndexOf("\r\n"u8);
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 2)..];
            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || line[..colon].IndexOfAnyExcept(HttpSyntax.TokenChars) >= 0)
            {
                // Also a line starting with a space (obsolete folding) or a space before the colon.
                throw Invalid($"a malformed header line \"{Printable(line)}\"");
            }
            var value = line[(colon + 1)..].Trim(" \t"u8);
            if (value.IndexOfAny(ControlChars) >= 0)
            {
                throw Invalid($"a control character in the value of {Printable(line[..colon])}");
            }
            var known = KnownHeaders.IndexOf(line[..colon]);
            switch (known)
            {
                case KnownHeaders.ContentLength:
                    var length = ParseLength(value);
                    if (contentLength >= 0 && length != contentLength)
                    {
                        throw Invalid($"two different Content-Length values ({contentLength} and {length})");
                    }
                    contentLength = length;
                    continue;
                case KnownHeaders.TransferEncoding:
                    transferEncoding = transferEncoding is null ? Encoding.Latin1.GetString(value) : $"{transferEncoding}, {Encoding.Latin1.GetString(value)}";
                    continue;
                case KnownHeaders.Connection:
                    var tokens = ValueOf(known, value);
                    connection = connection is null ? tokens : $"{connection}, {tokens}";
                    continue;
                case KnownHeaders.ServedBy:
                    KeepServedBy(value);
                    continue;
                case KnownHeaders.HopByHop:
                    continue;
                case KnownHeaders.RequestId:
                    HasRequestId = true;
                    break;
            }
            AddLine(known >= 0 ? KnownHeaders.NameBytesOf(known) : line[..colon], value, known);
        }
        KeepAlive = HasToken(connection, "close") ? false : http11 || HasToken(connection, "keep-alive");
        if (connection is not null && NamesHeaders(connection))
        {
            DropLinesNamedIn(connection);
        }
        Framing = FramingOf(requestWasHead, contentLength, transferEncoding);
        ContentLength = Framing == BodyFraming.ContentLength ? contentLength : 0;
        if (Framing == BodyFraming.UntilClose)
        {
            KeepAlive = false;
        }
        if (requestWasHead && contentLength >= 0)
        {
            // What a GET would have carried: the client may want to know.
            Span<byte> digits = stackalloc byte[20];
            contentLength.TryFormat(digits, out var written, default, System.Globalization.CultureInfo.InvariantCulture);
            AddLine(KnownHeaders.NameBytesOf(KnownHeaders.ContentLength), digits[..written], KnownHeaders.ContentLength);
        }
    }

    /// <summary>Appends <c>name: value</c> and CRLF to <see cref="Lines"/>.</summary>
    private void AddLine(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, int known)
    {
        var length = name.Length + value.Length + 4;
        if (_linesLength + length > _lines.Length)
        {
            // At most MaxSize in all: every line is shorter than it was received.
            Array.Resize(ref _lines, Math.Max(_lines.Length * 2, _linesLength + length));
        }
        _lineIndex.Add((_linesLength, name.Length, known));
        var span = _lines.AsSpan(_linesLength);
        name.CopyTo(span);
        ": "u8.CopyTo(span[name.Length..]);
        value.CopyTo(span[(name.Length + 2)..]);
        "\r\n"u8.CopyTo(span[(length - 2)..]);
        _linesLength += length;
    }

    private void KeepServedBy(ReadOnlySpan<byte> value)
    {
        if (value.Length > _servedBy.Length)
        {
            _servedBy = new byte[value.Length];
        }
        value.CopyTo(_servedBy);
        _servedByLength = value.Length;
    }

    /// <summary>Takes out of <see cref="Lines"/> the headers a backend's Connection header names: they belong to its hop only.</summary>
    private void DropLinesNamedIn(string connection)
    {
        var kept = 0;
        var to = 0;
        for (var i = 0; i < _lineIndex.Count; i++)
        {
            var (start, nameLength, known) = _lineIndex[i];
            var name = known >= 0 ? KnownHeaders.Names[known] : Encoding.Latin1.GetString(_lines, start, nameLength);
            var length = _lines.AsSpan(start).IndexOf("\r\n"u8) + 2;
            if (HopByHopHeaders.Contains(name, connection))
            {
                continue;
            }
            _lines.AsSpan(start, length).CopyTo(_lines.AsSpan(to));
            _lineIndex[kept++] = (to, nameLength, known);
            to += length;
        }
        _lineIndex.RemoveRange(kept, _lineIndex.Count - kept);
        _linesLength = to;
    }

    private BodyFraming FramingOf(bool requestWasHead, long contentLength, string? transferEncoding)
    {
        if (requestWasHead || Status is < 200 or 204 or 304)
        {
            return BodyFraming.None;
        }
        if (transferEncoding is not null)
        {
            if (contentLength >= 0)
            {
                // The classic request-smuggling shape; a proxy must not pick one reading.
                throw Invalid("both Content-Length and Transfer-Encoding");
            }
            var last = transferEncoding.AsSpan();
            last = last[(last.LastIndexOf(',') + 1)..].Trim();
            return last.Equals("chunked", StringComparison.OrdinalIgnoreCase) ? BodyFraming.Chunked : BodyFraming.UntilClose;
        }
        return contentLength >= 0 ? BodyFraming.ContentLength : BodyFraming.UntilClose;
    }

    /// <summary>Parses <c>HTTP/1.x NNN reason</c>; true for HTTP/1.1.</summary>
    private bool ParseStatusLine(ReadOnlySpan<byte> line)
    {
        if (line.Length < 12 || !line.StartsWith("HTTP/1."u8) || line[7] is not ((byte)'0' or (byte)'1') || line[8] != ' '
            || !char.IsAsciiDigit((char)line[9]) || !char.IsAsciiDigit((char)line[10]) || !char.IsAsciiDigit((char)line[11])
            || (line.Length > 12 && line[12] != ' ') || line[9] == '0' || line[12..].IndexOfAny(ControlChars) >= 0)
        {
            throw Invalid($"a malformed status line \"{Printable(line)}\"");
        }
        Status = ((line[9] - '0') * 100) + ((line[10] - '0') * 10) + (line[11] - '0');
        return line[7] == '1';
    }

    private static long ParseLength(ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty || value.Length > 18 || value.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0)
        {
            throw Invalid($"an invalid Content-Length \"{Printable(value)}\"");
        }
        long length = 0;
        foreach (var digit in value)
        {
            length = (length * 10) + (digit - '0');
        }
        return length;
    }

    /// <summary>The value as a string; for a known header the same string as last time on this connection when the bytes are the same.</summary>
    private string ValueOf(int known, ReadOnlySpan<byte> value)
    {
        if (known < 0)
        {
            return Encoding.Latin1.GetString(value);
        }
        if (_lastValues[known] is { } last && Ascii.Equals(value, last))
        {
            return last;
        }
        return _lastValues[known] = Encoding.Latin1.GetString(value);
    }

    /// <summary>Whether a Connection header names anything but <c>keep-alive</c> and <c>close</c> (headers to drop).</summary>
    private static bool NamesHeaders(string connection)
    {
        var span = connection.AsSpan();
        foreach (var range in span.Split(','))
        {
            var token = span[range].Trim();
            if (!token.IsEmpty && !token.Equals("keep-alive", StringComparison.OrdinalIgnoreCase) && !token.Equals("close", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    private static bool HasToken(string? list, string token)
    {
        if (list is null)
        {
            return false;
        }
        var span = list.AsSpan();
        foreach (var range in span.Split(','))
        {
            if (span[range].Trim().Equals(token, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    private static HttpRequestException Invalid(string what) =>
        new(HttpRequestError.InvalidResponse, $"The backend sent {what}.");

    /// <summary>At most 80 characters of <paramref name="bytes"/> for a message, control characters escaped.</summary>
    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder();
        foreach (var b in bytes[..Math.Min(bytes.Length, 80)])
        {
            text.Append(b is >= 0x20 and < 0x7f ? (char)b : $"\\x{b:x2}");
        }
        return bytes.Length > 80 ? text.Append('…').ToString() : text.ToString();
    }


    /// <summary>Bytes no header value may hold (tab is allowed).</summary>
    private static readonly SearchValues<byte> ControlChars = SearchValues.Create([.. Enumerable.Range(0, 32).Where(b => b != '\t').Select(b => (byte)b), 0x7f]);
}
