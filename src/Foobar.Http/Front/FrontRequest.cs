using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Foobar.Http.AccessLogs;
using Foobar.Http.Backends;
using Foobar.Http.Forwarder;
using Foobar.Http.Forwarder.Http1;

namespace Foobar.Http.Front;

/// <summary>
/// The head of a client's request as <see cref="Http1Front"/> reads it, straight from the
/// connection's buffer: only the plain shape that most of a site's traffic has — a body-less
/// <c>GET</c> or <c>HEAD</c> over HTTP/1.1, an origin-form target without escapes or dot
/// segments, one Host, ASCII headers, nothing that asks for an upgrade, a body or a 100-continue.
/// Anything else, well formed or not, is not read here: Kestrel reads it, with its limits and its
/// error answers. One per connection, reused; valid until the connection's buffer moves on.
/// </summary>
internal sealed class FrontRequest(IPAddress? client) : IRequestHead, IFrontRequest
{
    /// <summary>A larger head is left to Kestrel, whose limits (8 KB request line, 32 KB of headers) answer 414 or 431.</summary>
    public const int MaxHeadSize = 8 * 1024;

    /// <summary>More header lines are left to Kestrel (its limit is 100).</summary>
    public const int MaxHeaders = 64;

    private ReadOnlyMemory<byte> _head;
    private Range _target;
    private Range _host;
    private Range _forwardedFor;
    private Range _requestId;
    private Range _referer;
    private Range _userAgent;
    private Range _acceptEncoding;
    private Range _ifNoneMatch;
    private Range _ifModifiedSince;
    /// <summary>The id made up for a request that came without one (<see cref="EnsureId"/>), kept as bytes: no string per request.</summary>
    private readonly byte[] _generatedId = new byte[ForwardedHeaders.RequestIdBytes];
    private bool _hasGeneratedId;
    /// <summary>The header lines <see cref="Write"/> leaves out (hop-by-hop ones, X-Forwarded-For), in order: where each starts and ends.</summary>
    private readonly (int Start, int End)[] _dropped = new (int, int)[MaxHeaders];
    private int _droppedCount;
    private string _path = "/";

    /// <summary>The client's address, as X-Forwarded-For and the access log give it.</summary>
    public IPAddress? Client { get; } = client;

    /// <summary>Whether the method is HEAD (else GET).</summary>
    public bool IsHead { get; private set; }

    /// <summary>The method's name.</summary>
    public string Method => IsHead ? "HEAD" : "GET";

    /// <summary>The target's path (no query), as Kestrel would give it: the target has no escapes to decode.</summary>
    public string Path => _path;

    /// <summary>The bytes of the head, blank line included.</summary>
    public int Length => _head.Length;

    /// <inheritdoc />
    public bool HasRangeOrPrecondition { get; private set; }

    /// <inheritdoc />
    public string IfNoneMatch => Latin1(_ifNoneMatch);

    /// <inheritdoc />
    public string IfModifiedSince => Latin1(_ifModifiedSince);

    /// <inheritdoc />
    public string AcceptEncoding => Latin1(_acceptEncoding);

    /// <summary>Whether the client asked to close the connection after this response.</summary>
    public bool WantsClose { get; private set; }

    /// <summary>Whether the request came with an X-Forwarded-Proto (an earlier hop set it: kept, none added).</summary>
    private bool _hasForwardedProto;

    /// <summary>Whether the request came with an X-Forwarded-Host.</summary>
    private bool _hasForwardedHost;

    /// <summary>The request's X-Request-Id: the client's, or one made up for it when it had none.</summary>
    public string RequestId => _hasGeneratedId ? Convert.ToHexStringLower(_generatedId) : Latin1(_requestId);

    /// <summary>The target as received, for the access log.</summary>
    public string Target => Latin1(_target);

    /// <summary>The Referer header; null when absent.</summary>
    public string? Referer => Optional(_referer);

    /// <summary>The User-Agent header; null when absent.</summary>
    public string? UserAgent => Optional(_userAgent);

    /// <summary>The X-Forwarded-For the request came with; null when absent.</summary>
    public string? ForwardedFor => Optional(_forwardedFor);

    /// <summary>The backends the forwarder tried for this request: one list for the connection's requests, not one each.</summary>
    public List<Backend> Tried { get; } = new(2);

    /// <summary>The status of the answer, once given.</summary>
    public int Status { get; private set; }

    /// <summary>The declared length of the answer's body, once given; null when not declared (chunked, until close).</summary>
    public long? BodyLength { get; private set; }

    /// <summary>The servers behind this one that answered (their X-Served-By), once known; null when none did.</summary>
    public string? Upstream { get; private set; }

    /// <summary>Whether <see cref="Upstream"/> is wanted (the access log writes it): otherwise the backend's X-Served-By is passed on as bytes only.</summary>
    public bool KeepsUpstream { get; set; }

    /// <summary>Notes the answer for the access log.</summary>
    public void Answered(int status, long? bodyLength, string? upstream)
    {
        Status = status;
        BodyLength = bodyLength;
        Upstream = upstream;
    }

    /// <summary>The access log's entry for this exchange, which arrived at <paramref name="arrived"/> and took <paramref name="duration"/>.</summary>
    public AccessLogEntry LogEntry(DateTimeOffset arrived, TimeSpan duration) => new(
        arrived, Client?.ToString() ?? "-", Method, Target, "HTTP/1.1", Status, BodyLength, Referer, UserAgent, duration, Upstream, RequestId, ForwardedFor);

    /// <summary>
    /// Reads a head from the start of <paramref name="buffer"/>. False when the buffer holds no
    /// complete head of the plain shape; then nothing about the request is known and Kestrel reads it.
    /// </summary>
    public bool TryRead(ReadOnlyMemory<byte> buffer)
    {
        var span = buffer.Span;
        var end = span[..Math.Min(span.Length, MaxHeadSize)].IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            return false;
        }
        _head = buffer[..(end + 4)];
        _target = _host = _forwardedFor = _requestId = _referer = _userAgent = _acceptEncoding = _ifNoneMatch = _ifModifiedSince = default;
        _hasGeneratedId = false;
        _droppedCount = 0;
        Answered(0, null, null);
        _hasForwardedProto = _hasForwardedHost = WantsClose = HasRangeOrPrecondition = false;
        return ReadRequestLine(span[..(end + 2)], out var rest) && ReadHeaders(span, rest, end + 2) && _host.End.Value > 0;
    }

    private bool ReadRequestLine(ReadOnlySpan<byte> head, out int rest)
    {
        rest = 0;
        int methodLength;
        if (head.StartsWith("GET /"u8))
        {
            IsHead = false;
            methodLength = 3;
        }
        else if (head.StartsWith("HEAD /"u8))
        {
            IsHead = true;
            methodLength = 4;
        }
        else
        {
            return false;
        }
        var lineEnd = head.IndexOf("\r\n"u8);
        const int VersionLength = 9; // " HTTP/1.1"
        var targetStart = methodLength + 1;
        var targetEnd = lineEnd - VersionLength;
        if (targetEnd <= targetStart || !head[targetEnd..lineEnd].SequenceEqual(" HTTP/1.1"u8))
        {
            return false;
        }
        var target = head[targetStart..targetEnd];
        var query = target.IndexOf((byte)'?');
        var path = query < 0 ? target : target[..query];
        if (path.IndexOfAnyExcept(PathChars) >= 0 || path.IndexOf("/."u8) >= 0)
        {
            return false;
        }
        if (query >= 0 && !IsPlainQuery(target[(query + 1)..]))
        {
            return false;
        }
        _target = targetStart..targetEnd;
        // A connection's requests often ask for the same path (a client polling, a load balancer's own traffic): the last string is kept.
        if (!Ascii.Equals(path, _path))
        {
            _path = Encoding.ASCII.GetString(path);
        }
        rest = lineEnd + 2;
        return true;
    }

    private static bool IsPlainQuery(ReadOnlySpan<byte> query)
    {
        if (query.IndexOfAnyExcept(QueryChars) >= 0)
        {
            return false;
        }
        for (var percent = query.IndexOf((byte)'%'); percent >= 0; percent = query.IndexOf((byte)'%'))
        {
            if (percent + 2 >= query.Length || !char.IsAsciiHexDigit((char)query[percent + 1]) || !char.IsAsciiHexDigit((char)query[percent + 2]))
            {
                return false;
            }
            query = query[(percent + 3)..];
        }
        return true;
    }

    private bool ReadHeaders(ReadOnlySpan<byte> head, int start, int end)
    {
        var count = 0;
        for (var at = start; at < end;)
        {
            var lineEnd = at + head[at..end].IndexOf("\r\n"u8);
            var line = head[at..lineEnd];
            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || ++count > MaxHeaders || line[..colon].IndexOfAnyExcept(HttpSyntax.TokenChars) >= 0)
            {
                return false;
            }
            var valueStart = colon + 1;
            while (valueStart < line.Length && line[valueStart] is (byte)' ' or (byte)'\t')
            {
                valueStart++;
            }
            var valueEnd = line.Length;
            while (valueEnd > valueStart && line[valueEnd - 1] is (byte)' ' or (byte)'\t')
            {
                valueEnd--;
            }
            var value = line[valueStart..valueEnd];
            var index = RequestHeaders.IndexOf(line[..colon]);
            if (value.IndexOfAnyExcept(ValueChars) >= 0 || !Note(index, value, (at + valueStart)..(at + valueEnd)))
            {
                return false;
            }
            if (RequestHeaders.IsDropped(index))
            {
                _dropped[_droppedCount++] = (at, lineEnd + 2);
            }
            at = lineEnd + 2;
        }
        return true;
    }

    /// <summary>Takes note of a header that matters here; false for one that puts the request outside the plain shape.</summary>
    private bool Note(int index, ReadOnlySpan<byte> value, Range range)
    {
        switch (index)
        {
            case RequestHeaders.Host:
                if (_host.End.Value > 0 || value.IsEmpty || value.IndexOfAnyExcept(HostChars) >= 0)
                {
                    return false;
                }
                _host = range;
                return true;
            case RequestHeaders.ContentLength:
                return value.SequenceEqual("0"u8);
            case RequestHeaders.Connection:
                foreach (var token in value.Split((byte)','))
                {
                    var trimmed = value[token].Trim(" \t"u8);
                    if (Ascii.EqualsIgnoreCase(trimmed, "close"u8))
                    {
                        WantsClose = true;
                    }
                    else if (!Ascii.EqualsIgnoreCase(trimmed, "keep-alive"u8))
                    {
                        // Upgrade, or names of headers to drop: Kestrel's part.
                        return false;
                    }
                }
                return true;
            case RequestHeaders.ForwardedFor:
                return NoteOnce(ref _forwardedFor, range);
            case RequestHeaders.RequestId:
                return NoteOnce(ref _requestId, range);
            case RequestHeaders.Referer:
                _referer = range;
                return true;
            case RequestHeaders.UserAgent:
                _userAgent = range;
                return true;
            case RequestHeaders.ForwardedProto:
                _hasForwardedProto = true;
                return true;
            case RequestHeaders.ForwardedHost:
                _hasForwardedHost = true;
                return true;
            // Two lines of a list would be one list: Kestrel joins them.
            case RequestHeaders.AcceptEncoding:
                return NoteOnce(ref _acceptEncoding, range);
            case RequestHeaders.IfNoneMatch:
                return NoteOnce(ref _ifNoneMatch, range);
            case RequestHeaders.IfModifiedSince:
                return NoteOnce(ref _ifModifiedSince, range);
            case RequestHeaders.RangeOrPrecondition:
                HasRangeOrPrecondition = true;
                return true;
            case RequestHeaders.NotPlain:
                return false;
            default:
                return true;
        }
    }

    /// <summary>Takes note of a header that may come once only here; false (not the plain shape) for a second line of it.</summary>
    private static bool NoteOnce(ref Range header, Range range)
    {
        if (header.End.Value > 0)
        {
            return false;
        }
        header = range;
        return true;
    }

    /// <summary>
    /// Names the request when it came without an X-Request-Id, as the first hop does
    /// (<see cref="ForwardedHeaders"/>); the same name on every try.
    /// </summary>
    public void EnsureId()
    {
        if (_requestId.End.Value == 0 && !_hasGeneratedId)
        {
            ForwardedHeaders.NewRequestId(_generatedId);
            _hasGeneratedId = true;
        }
    }

    /// <summary>Writes the X-Request-Id header line: the client's value as received, or the id made up for it.</summary>
    public void WriteRequestId(PipeWriter output) => output.Advance(WriteRequestId(output.GetSpan(RequestIdLineLength)));

    /// <summary>Writes the X-Request-Id header line into <paramref name="span"/> (at least <see cref="RequestIdLineLength"/> long): how many bytes.</summary>
    public int WriteRequestId(Span<byte> span)
    {
        var written = 0;
        Append(span, ref written, "X-Request-Id: "u8);
        written += WriteId(span[written..]);
        Append(span, ref written, "\r\n"u8);
        return written;
    }

    /// <summary>The most <see cref="WriteRequestId(Span{byte})"/> writes.</summary>
    public int RequestIdLineLength => RequestIdLineSize + LengthOf(_requestId);

    /// <summary>The id's bytes: <see cref="ForwardedHeaders.RequestIdBytes"/> as hex when made up here.</summary>
    private int WriteId(Span<byte> span)
    {
        if (!_hasGeneratedId)
        {
            _head.Span[_requestId].CopyTo(span);
            return LengthOf(_requestId);
        }
        for (var i = 0; i < _generatedId.Length; i++)
        {
            span[2 * i] = HexDigits[_generatedId[i] >> 4];
            span[2 * i + 1] = HexDigits[_generatedId[i] & 0xF];
        }
        return 2 * _generatedId.Length;
    }

    private static ReadOnlySpan<byte> HexDigits => "0123456789abcdef"u8;

    /// <summary>"X-Request-Id: ", a made-up id's 32 digits, CRLF.</summary>
    private const int RequestIdLineSize = 16 + 2 * ForwardedHeaders.RequestIdBytes;

    /// <summary>
    /// Writes the head for the backend: the request line and the client's headers as received,
    /// hop-by-hop ones left out, then X-Forwarded-For with the client appended, X-Forwarded-Proto
    /// and -Host unless an earlier hop set them, and X-Request-Id when it was made up here.
    /// </summary>
    public void Write(PipeWriter output, Backend backend)
    {
        var head = _head.Span;
        // One span for the whole head, no larger than what goes in it, so the head stays in the buffer's current block.
        var span = output.GetSpan(head.Length + AddedHeadersSize + LengthOf(_forwardedFor) + LengthOf(_host) + (_hasGeneratedId ? RequestIdLineSize : 0));
        var written = 0;
        var at = 0;
        // The lines to leave out were found when the head was read: the rest goes in as few copies.
        for (var i = 0; i < _droppedCount; i++)
        {
            var (start, end) = _dropped[i];
            Append(span, ref written, head[at..start]);
            at = end;
        }
        // Up to the blank line, which ends the added headers instead.
        Append(span, ref written, head[at..^2]);
        Append(span, ref written, "X-Forwarded-For: "u8);
        if (_forwardedFor.End.Value > 0)
        {
            Append(span, ref written, head[_forwardedFor]);
            Append(span, ref written, ", "u8);
        }
        if (Client is null || !Client.TryFormat(span[written..], out var addressLength))
        {
            // Kestrel's transports always know the peer; a null would only come from a test.
            addressLength = 0;
        }
        written += addressLength;
        Append(span, ref written, "\r\n"u8);
        if (!_hasForwardedProto)
        {
            Append(span, ref written, "X-Forwarded-Proto: http\r\n"u8);
        }
        if (!_hasForwardedHost)
        {
            Append(span, ref written, "X-Forwarded-Host: "u8);
            Append(span, ref written, head[_host]);
            Append(span, ref written, "\r\n"u8);
        }
        if (_hasGeneratedId)
        {
            Append(span, ref written, "X-Request-Id: "u8);
            written += WriteId(span[written..]);
            Append(span, ref written, "\r\n"u8);
        }
        Append(span, ref written, "\r\n"u8);
        output.Advance(written);
    }

    /// <summary>The fixed part of the headers <see cref="Write"/> adds: names, separators, line ends, "http", the longest IPv6 address.</summary>
    private const int AddedHeadersSize = 160;

    private static int LengthOf(Range range) => range.End.Value - range.Start.Value;

    private static void Append(Span<byte> span, ref int written, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(span[written..]);
        written += bytes.Length;
    }

    private string Latin1(Range range) => range.End.Value == 0 ? "" : Encoding.Latin1.GetString(_head.Span[range]);

    private string? Optional(Range range) => range.End.Value == 0 ? null : Latin1(range);

    /// <summary>Path characters taken as they are: RFC 3986 pchar without percent-escapes, and '/'.</summary>
    private static readonly SearchValues<byte> PathChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/"u8);

    /// <summary>Query characters: the path's, '?' and well-formed percent-escapes.</summary>
    private static readonly SearchValues<byte> QueryChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?%"u8);

    /// <summary>Visible ASCII, space and tab: what Kestrel accepts in a header value without Latin-1 enabled.</summary>
    private static readonly SearchValues<byte> ValueChars =
        SearchValues.Create([(byte)'\t', .. Enumerable.Range(0x20, 0x7f - 0x20).Select(b => (byte)b)]);

    /// <summary>A host name, an IPv4 address or a bracketed IPv6 one, and a port.</summary>
    private static readonly SearchValues<byte> HostChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.:[]"u8);
}
