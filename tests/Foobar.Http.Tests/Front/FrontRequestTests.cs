using System.IO.Pipelines;
using System.Net;
using System.Text;
using Foobar.Http.Backends;
using Foobar.Http.Front;

namespace Foobar.Http.Tests.Front;

/// <summary>
/// What the front reads itself and what it leaves to Kestrel: every request outside the plain
/// shape, malformed or merely unusual, must be left alone (TryRead false), never half-read.
/// </summary>
public class FrontRequestTests
{
    private static readonly IPAddress Client = IPAddress.Parse("192.0.2.7");

    private static FrontRequest Read(string head, bool expected = true)
    {
        var request = new FrontRequest(Client);
        Assert.Equal(expected, request.TryRead(Encoding.Latin1.GetBytes(head)));
        return request;
    }

    [Fact]
    public void PlainGet_IsRead()
    {
        var request = Read("GET /api/entries?page=2&q=a%20b HTTP/1.1\r\nHost: www.foobar.com\r\nUser-Agent: curl/8\r\nReferer: http://x/\r\n\r\nNEXT");

        Assert.False(request.IsHead);
        Assert.Equal("GET", request.Method);
        Assert.Equal("/api/entries", request.Path);
        Assert.Equal("/api/entries?page=2&q=a%20b", request.Target);
        Assert.Equal("curl/8", request.UserAgent);
        Assert.Equal("http://x/", request.Referer);
        Assert.False(request.WantsClose);
        Assert.Equal("GET /api/entries?page=2&q=a%20b HTTP/1.1\r\nHost: www.foobar.com\r\nUser-Agent: curl/8\r\nReferer: http://x/\r\n\r\n".Length, request.Length);
    }

    [Fact]
    public void ACachesValidators_AndItsEncodings_AreKept_ARangeIsNoted()
    {
        var request = Read("GET /site.css HTTP/1.1\r\nHost: a\r\naccept-encoding: gzip, br\r\nIf-None-Match: W/\"1\", \"2\"\r\nIf-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n\r\n");

        Assert.Equal("gzip, br", request.AcceptEncoding);
        Assert.Equal("W/\"1\", \"2\"", request.IfNoneMatch);
        Assert.Equal("Thu, 01 Jan 1970 00:00:00 GMT", request.IfModifiedSince);
        Assert.False(request.HasRangeOrPrecondition);
        foreach (var header in new[] { "Range: bytes=0-1", "If-Range: \"1\"", "If-Match: *", "If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT" })
        {
            Assert.True(Read($"GET / HTTP/1.1\r\nHost: a\r\n{header}\r\n\r\n").HasRangeOrPrecondition, header);
        }
        var plain = Read("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal("", plain.IfNoneMatch);
        Assert.Equal("", plain.AcceptEncoding);
    }

    [Fact]
    public void Head_AndConnectionClose_AreNoted()
    {
        var request = Read("HEAD / HTTP/1.1\r\nhost: a\r\nConnection: keep-alive, Close\r\n\r\n");

        Assert.True(request.IsHead);
        Assert.Equal("/", request.Path);
        Assert.True(request.WantsClose);
    }

    [Theory]
    [InlineData("POST /api/entries HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")] // only GET and HEAD
    [InlineData("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n")]
    [InlineData("get / HTTP/1.1\r\nHost: a\r\n\r\n")] // methods are case-sensitive: Kestrel's 400 or 405
    [InlineData("GET / HTTP/1.0\r\nHost: a\r\n\r\n")]
    [InlineData("GET / HTTP/2.0\r\nHost: a\r\n\r\n")]
    [InlineData("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")]
    [InlineData("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n")] // absolute form
    [InlineData("GET /%2e%2e/etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n")] // escapes in the path
    [InlineData("GET /a/../b HTTP/1.1\r\nHost: a\r\n\r\n")] // dot segments
    [InlineData("GET /a/./b HTTP/1.1\r\nHost: a\r\n\r\n")]
    [InlineData("GET /.. HTTP/1.1\r\nHost: a\r\n\r\n")]
    [InlineData("GET /..%5c..%5cwin.ini HTTP/1.1\r\nHost: a\r\n\r\n")]
    [InlineData("GET /a\\b HTTP/1.1\r\nHost: a\r\n\r\n")]
    [InlineData("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n")]
    [InlineData("GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n")]
    [InlineData("GET /caf\u00e9 HTTP/1.1\r\nHost: a\r\n\r\n")]
    [InlineData("GET /?q=%zz HTTP/1.1\r\nHost: a\r\n\r\n")] // a broken escape in the query
    [InlineData("GET /?q=% HTTP/1.1\r\nHost: a\r\n\r\n")]
    [InlineData("GET /?q=<script> HTTP/1.1\r\nHost: a\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\n\r\n")] // no Host
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: \r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a@b\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello")] // a body
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n")] // smuggling shape
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nConnection: X-Secret\r\n\r\n")] // names a header to drop
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n")] // space in a name
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nName : x\r\n\r\n")] // space before the colon
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n folded\r\n\r\n")] // obsolete line folding
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nno-colon\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nX-A: caf\u00e9\r\n\r\n")] // not ASCII
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\u0001b\r\n\r\n")] // a control character
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\rb\r\n\r\n")] // a bare CR
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: 1\r\nX-Request-Id: 2\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\nAccept-Encoding: br\r\n\r\n")] // a list on two lines
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"a\"\r\nIf-None-Match: \"b\"\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nIf-Modified-Since: x\r\nIf-Modified-Since: y\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\n")] // not complete yet
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\n\r")]
    [InlineData("")]
    public void OutsideThePlainShape_IsLeftToKestrel(string head) => Read(head, expected: false);

    [Fact]
    public void TooLargeAHead_IsLeftToKestrel()
    {
        Read($"GET / HTTP/1.1\r\nHost: a\r\nX-Big: {new string('x', FrontRequest.MaxHeadSize)}\r\n\r\n", expected: false);
        Read($"GET / HTTP/1.1\r\nHost: a\r\n{string.Concat(Enumerable.Range(0, FrontRequest.MaxHeaders).Select(i => $"X-{i}: 1\r\n"))}\r\n", expected: false);
    }

    [Fact]
    public void ThePathOfTheLastRequest_IsKeptForTheNextWithTheSamePath_AndOnlyThen()
    {
        var request = new FrontRequest(Client);
        Assert.True(request.TryRead("GET /api/x?a=1 HTTP/1.1\r\nHost: a\r\n\r\n"u8.ToArray()));
        var first = request.Path;

        Assert.True(request.TryRead("GET /api/x?a=2 HTTP/1.1\r\nHost: a\r\n\r\n"u8.ToArray()));
        Assert.Same(first, request.Path);
        Assert.True(request.TryRead("GET /api/y HTTP/1.1\r\nHost: a\r\n\r\n"u8.ToArray()));
        Assert.Equal("/api/y", request.Path);
        Assert.True(request.TryRead("GET /api/ HTTP/1.1\r\nHost: a\r\n\r\n"u8.ToArray()));
        Assert.Equal("/api/", request.Path);
    }

    [Fact]
    public void AReadRequest_CanBeReadAgainAfterAnother()
    {
        var request = new FrontRequest(Client);
        Assert.True(request.TryRead("GET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\nX-Request-Id: abc\r\n\r\n"u8.ToArray()));
        Assert.True(request.TryRead("HEAD /b HTTP/1.1\r\nHost: b\r\n\r\n"u8.ToArray()));

        Assert.Equal("/b", request.Path);
        Assert.True(request.IsHead);
        Assert.False(request.WantsClose);
        request.EnsureId();
        Assert.NotEqual("abc", request.RequestId);
    }

    [Fact]
    public void Write_PassesHeadersOn_DropsHopByHop_AndAddsThisHopsHeaders()
    {
        var request = Read("GET /x?y=1 HTTP/1.1\r\nHost: www.foobar.com\r\nKeep-Alive: timeout=5\r\nConnection: keep-alive\r\nTE: trailers\r\n"
            + "X-Forwarded-For: 10.0.0.1\r\nAccept: text/html\r\nCookie: a=b\r\n\r\n");
        request.EnsureId();

        var head = WriteHead(request);

        Assert.StartsWith("GET /x?y=1 HTTP/1.1\r\nHost: www.foobar.com\r\nAccept: text/html\r\nCookie: a=b\r\n", head);
        Assert.DoesNotContain("Keep-Alive", head);
        Assert.DoesNotContain("Connection", head);
        Assert.DoesNotContain("TE:", head);
        Assert.Contains("\r\nX-Forwarded-For: 10.0.0.1, 192.0.2.7\r\n", head);
        Assert.Contains("\r\nX-Forwarded-Proto: http\r\n", head);
        Assert.Contains("\r\nX-Forwarded-Host: www.foobar.com\r\n", head);
        Assert.Matches("\r\nX-Request-Id: [0-9a-f]{32}\r\n", head);
        Assert.EndsWith("\r\n\r\n", head);
        Assert.Single(head.Split("\r\n"), line => line.StartsWith("X-Forwarded-For:", StringComparison.Ordinal));
        // The same name on every try.
        Assert.Equal(head, WriteHead(request));
    }

    [Fact]
    public void Write_KeepsWhatAnEarlierHopSet()
    {
        var request = Read("GET / HTTP/1.1\r\nHost: web\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: www.foobar.com\r\nX-Request-Id: from-lb\r\n\r\n");
        request.EnsureId();

        var head = WriteHead(request);

        Assert.Equal("from-lb", request.RequestId);
        Assert.Contains("\r\nX-Forwarded-Proto: https\r\n", head);
        Assert.DoesNotContain("X-Forwarded-Proto: http\r\n", head);
        Assert.Contains("\r\nX-Forwarded-Host: www.foobar.com\r\n", head);
        Assert.Single(head.Split("\r\n"), line => line.StartsWith("X-Request-Id:", StringComparison.Ordinal));
        Assert.Contains("\r\nX-Forwarded-For: 192.0.2.7\r\n", head);
    }

    [Fact]
    public void Write_AHeadNearTheLimit_WithTheAddedHeadersLongest_IsWrittenWhole()
    {
        var prior = string.Join(", ", Enumerable.Repeat("203.0.113.200", 280));
        var host = new string('h', 3900);
        var request = Read($"GET / HTTP/1.1\r\nHost: {host}\r\nX-Forwarded-For: {prior}\r\n\r\n");
        request.EnsureId();

        var head = WriteHead(request);

        Assert.Contains($"\r\nX-Forwarded-For: {prior}, 192.0.2.7\r\n", head);
        Assert.Contains($"\r\nX-Forwarded-Host: {host}\r\n", head);
        Assert.EndsWith("\r\n\r\n", head);
    }

    [Theory]
    [InlineData("X-Request-Id: from-lb\r\n", "from-lb")]
    [InlineData("", null)]
    public void WriteRequestId_TheClientsAsReceived_OrTheOneMadeUp_AsTheBackendGotIt(string header, string? expected)
    {
        var request = Read($"GET / HTTP/1.1\r\nHost: web\r\n{header}\r\n");
        request.EnsureId();
        var pipe = new Pipe();

        request.WriteRequestId(pipe.Writer);
        pipe.Writer.Complete();
        Assert.True(pipe.Reader.TryRead(out var result));
        var line = Encoding.Latin1.GetString(result.Buffer);

        Assert.Equal($"X-Request-Id: {expected ?? request.RequestId}\r\n", line);
        Assert.Matches(expected ?? "^[0-9a-f]{32}$", request.RequestId);
        Assert.Contains($"\r\n{line}", WriteHead(request));
    }

    private static string WriteHead(FrontRequest request)
    {
        var pipe = new Pipe();
        request.Write(pipe.Writer, new Backend("b", new Uri("http://127.0.0.1:1/")));
        pipe.Writer.Complete();
        Assert.True(pipe.Reader.TryRead(out var result));
        return Encoding.Latin1.GetString(result.Buffer);
    }
}
