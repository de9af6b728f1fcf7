using System.Buffers;
using System.Text;
using Foobar.Http.Forwarder.Http1;

namespace Foobar.Http.Tests.Forwarder.Http1;

public class ResponseHeadTests
{
    private static ReadOnlySequence<byte> Bytes(string text) => new(Encoding.Latin1.GetBytes(text));

    /// <summary>The text in segments of <paramref name="size"/> bytes, as a socket may deliver it.</summary>
    private static ReadOnlySequence<byte> InPieces(string text, int size)
    {
        var bytes = Encoding.Latin1.GetBytes(text);
        Segment? first = null, last = null;
        for (var i = 0; i < bytes.Length; i += size)
        {
            var piece = bytes.AsMemory(i, Math.Min(size, bytes.Length - i));
            last = last is null ? first = new Segment(piece, 0) : last.Append(piece);
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    [Fact]
    public void Head_SplitIntoThreeByteSegments_IsParsed_AndEndsWhereTheBodyStarts()
    {
        var head = new ResponseHead();
        var buffer = InPieces("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nX-Served-By: web1, app2\r\n\r\nnope", 3);

        Assert.True(head.TryParse(buffer, requestWasHead: false, out var consumed));

        Assert.Equal(404, head.Status);
        Assert.Equal(BodyFraming.ContentLength, head.Framing);
        Assert.Equal(4, head.ContentLength);
        Assert.Equal("web1, app2", head.ServedBy);
        Assert.Equal([new("Content-Type", "text/plain")], head.Headers);
        Assert.Equal("nope", Encoding.Latin1.GetString(buffer.Slice(consumed)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("HTTP/1.1 200 OK\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r")]
    public void IncompleteHead_IsNotParsedYet(string text) =>
        Assert.False(new ResponseHead().TryParse(Bytes(text), requestWasHead: false, out _));

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true)]
    [InlineData("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false)]
    [InlineData("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false)]
    [InlineData("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n", true)]
    [InlineData("HTTP/1.1 200 OK\r\n\r\n", false)]
    public void KeepAlive_FollowsTheVersionTheConnectionHeaderAndTheFraming(string text, bool keepAlive)
    {
        var head = new ResponseHead();
        Assert.True(head.TryParse(Bytes(text), requestWasHead: false, out _));
        Assert.Equal(keepAlive, head.KeepAlive);
    }

    [Theory]
    [InlineData("X-Internal")]
    [InlineData("keep-alive, x-internal")]
    [InlineData("close")] // names nothing; the header itself is dropped in any case
    public void HopByHopHeaders_AndThoseTheConnectionHeaderNames_AreLeftOut(string connection)
    {
        var head = new ResponseHead();

        Assert.True(head.TryParse(Bytes($"HTTP/1.1 200 OK\r\nConnection: {connection}\r\nKeep-Alive: timeout=5\r\nX-Internal: secret\r\nUpgrade: h2c\r\nX-Public: yes\r\nContent-Length: 0\r\n\r\n"), false, out _));

        Assert.Equal(connection == "close" ? [new("X-Internal", "secret"), new("X-Public", "yes")] : [new("X-Public", "yes")], head.Headers);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", nameof(BodyFraming.Chunked))]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", nameof(BodyFraming.Chunked))]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", nameof(BodyFraming.UntilClose))]
    [InlineData("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", nameof(BodyFraming.None))]
    [InlineData("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", nameof(BodyFraming.None))]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 7\r\n\r\n", nameof(BodyFraming.ContentLength))]
    public void Framing_FollowsRfc9112(string text, string framing)
    {
        var head = new ResponseHead();
        Assert.True(head.TryParse(Bytes(text), requestWasHead: false, out _));
        Assert.Equal(framing, head.Framing.ToString());
    }

    [Fact]
    public void ResponseToHead_HasNoBody_ButKeepsItsContentLengthForTheClient()
    {
        var head = new ResponseHead();

        Assert.True(head.TryParse(Bytes("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"), requestWasHead: true, out _));

        Assert.Equal(BodyFraming.None, head.Framing);
        Assert.Contains(new KeyValuePair<string, string>("Content-Length", "1000"), head.Headers);
    }

    [Fact]
    public void SameValueOnTheSameConnection_IsTheSameString()
    {
        var head = new ResponseHead();
        var text = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Custom: a\r\nContent-Length: 0\r\n\r\n";

        head.TryParse(Bytes(text), false, out _);
        var first = head.Headers.ToArray();
        head.TryParse(Bytes(text), false, out _);

        Assert.Same(first[0].Value, head.Headers[0].Value);
        Assert.Same(first[0].Key, head.Headers[0].Key);
        Assert.Equal("a", head.Headers[1].Value);
    }

    [Fact]
    public void Lines_AreTheEndToEndHeadersReadyToPassOn_KnownNamesSpeltAsKnown_ValuesTrimmed()
    {
        var head = new ResponseHead();

        Assert.True(head.TryParse(Bytes("HTTP/1.1 200 OK\r\ncontent-type:  text/html \r\nConnection: x-internal\r\nX-Internal: secret\r\nx-custom: a\r\n"
            + "X-Request-Id: abc\r\nX-Served-By: app1, db2\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 5\r\n\r\n"), false, out _));

        Assert.Equal("Content-Type: text/html\r\nx-custom: a\r\nX-Request-Id: abc\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n", Encoding.Latin1.GetString(head.Lines));
        Assert.True(head.HasRequestId);
        Assert.Equal("app1, db2", Encoding.Latin1.GetString(head.ServedByBytes));
        Assert.Equal("app1, db2", head.ServedBy);
        Assert.Equal([new("Content-Type", "text/html"), new("x-custom", "a"), new("X-Request-Id", "abc"), new("Set-Cookie", "a=1"), new("Set-Cookie", "b=2")], head.Headers);

        // The next response on the connection starts afresh.
        Assert.True(head.TryParse(Bytes("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"), false, out _));

        Assert.Equal("ETag: \"x\"\r\n", Encoding.Latin1.GetString(head.Lines));
        Assert.False(head.HasRequestId);
        Assert.True(head.ServedByBytes.IsEmpty);
        Assert.Null(head.ServedBy);
        Assert.Equal([new("ETag", "\"x\"")], head.Headers);
    }

    [Fact]
    public void Lines_OfAHeadLargerThanTheirFirstBuffer_AreWhole()
    {
        var values = Enumerable.Range(0, 40).Select(i => $"X-Filler-{i}: {new string((char)('a' + (i % 26)), 100)}\r\n").ToArray();
        var head = new ResponseHead();

        Assert.True(head.TryParse(Bytes($"HTTP/1.1 200 OK\r\n{string.Concat(values)}Content-Length: 0\r\n\r\n"), false, out _));

        Assert.Equal(string.Concat(values), Encoding.Latin1.GetString(head.Lines));
        Assert.Equal(40, head.Headers.Count);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", "malformed status line")]
    [InlineData("HTTP/1.1 099 Odd\r\n\r\n", "malformed status line")]
    [InlineData("HTTP/1.1 200 OK\r\n: no name\r\n\r\n", "malformed header line")]
    [InlineData("HTTP/1.1 200 OK\r\nNo-Colon\r\n\r\n", "malformed header line")]
    [InlineData("HTTP/1.1 200 OK\r\nName : space before colon\r\n\r\n", "malformed header line")]
    [InlineData("HTTP/1.1 200 OK\r\nX: a\nInjected: b\r\n\r\n", "control character")]
    [InlineData("HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n", "control character")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n", "invalid Content-Length")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", "invalid Content-Length")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\n", "invalid Content-Length")]
    public void MalformedHead_IsAnInvalidResponse_NamingWhat(string text, string what)
    {
        var error = Assert.Throws<HttpRequestException>(() => new ResponseHead().TryParse(Bytes(text), false, out _));
        Assert.Equal(HttpRequestError.InvalidResponse, error.HttpRequestError);
        Assert.Contains(what, error.Message);
    }

    [Fact]
    public void HeadLongerThanTheLimit_IsRefusedBeforeItEnds()
    {
        var text = "HTTP/1.1 200 OK\r\n" + string.Concat(Enumerable.Repeat($"X-Filler: {new string('x', 1000)}\r\n", 70));

        var error = Assert.Throws<HttpRequestException>(() => new ResponseHead().TryParse(Bytes(text), false, out _));
        Assert.Contains("larger than 64 KB", error.Message);
    }
}
