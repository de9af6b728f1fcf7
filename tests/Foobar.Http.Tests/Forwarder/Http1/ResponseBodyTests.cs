using System.IO.Pipelines;
using System.Text;
using Foobar.Http.Forwarder.Http1;

namespace Foobar.Http.Tests.Forwarder.Http1;

public class ResponseBodyTests
{
    /// <summary>Copies the body of <paramref name="response"/> fed <paramref name="pieceSize"/> bytes at a time; returns the copied text and what is left unread.</summary>
    private static async Task<(bool Reusable, string Body, string Unread)> CopyAsync(string response, int pieceSize, bool close = false)
    {
        var bytes = Encoding.Latin1.GetBytes(response);
        var head = new ResponseHead();
        var headEnd = response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        Assert.True(head.TryParse(new(bytes.AsMemory(0, headEnd)), false, out _));
        var input = new Pipe();
        var output = new Pipe();
        var feeding = Task.Run(async () =>
        {
            for (var i = headEnd; i < bytes.Length; i += pieceSize)
            {
                await input.Writer.WriteAsync(bytes.AsMemory(i, Math.Min(pieceSize, bytes.Length - i)));
            }
            if (close)
            {
                await input.Writer.CompleteAsync();
            }
        });
        var reusable = await ResponseBody.CopyAsync(input.Reader, head, output.Writer, CancellationToken.None);
        await feeding;
        await output.Writer.CompleteAsync();
        var body = await ReadAllAsync(output.Reader);
        string rest = "";
        if (input.Reader.TryRead(out var left))
        {
            rest = Encoding.Latin1.GetString(left.Buffer);
            input.Reader.AdvanceTo(left.Buffer.End);
        }
        return (reusable, body, rest);
    }

    private static async Task<string> ReadAllAsync(PipeReader reader)
    {
        while (true)
        {
            var result = await reader.ReadAsync();
            if (result.IsCompleted)
            {
                var text = Encoding.Latin1.GetString(result.Buffer);
                reader.AdvanceTo(result.Buffer.End);
                return text;
            }
            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4096)]
    public async Task Chunked_InAnyPieces_IsDecoded_AndStopsAfterItsTrailers(int pieceSize)
    {
        var (reusable, body, rest) = await CopyAsync(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "4\r\nWiki\r\nA ; ext=\"x\"\r\npedia in\r\n\r\n0E\r\n\r\nchunks. done\r\n0\r\nX-Sum: 9\r\n\r\n"
            + "HTTP/1.1 200 OK\r\n", pieceSize);

        Assert.True(reusable);
        Assert.Equal("Wikipedia in\r\n\r\nchunks. done", body);
        Assert.Equal("HTTP/1.1 200 OK\r\n", rest);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    public async Task ContentLength_StopsAtTheLength_LeavingTheNextResponseUnread(int pieceSize)
    {
        var (reusable, body, rest) = await CopyAsync("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello worldHTTP/1.1", pieceSize);

        Assert.True(reusable);
        Assert.Equal("hello world", body);
        Assert.Equal("HTTP/1.1", rest);
    }

    [Fact]
    public async Task UntilClose_CopiesEverything_AndTheConnectionIsDone()
    {
        var (reusable, body, _) = await CopyAsync("HTTP/1.0 200 OK\r\n\r\nevery last byte", 4, close: true);

        Assert.False(reusable);
        Assert.Equal("every last byte", body);
    }

    [Theory]
    [InlineData("zz\r\nhello\r\n0\r\n\r\n", "invalid chunk size")]
    [InlineData("-5\r\nhello\r\n0\r\n\r\n", "invalid chunk size")]
    [InlineData("5\r\nhelloXX0\r\n\r\n", "not followed by CRLF")]
    [InlineData("10000000000000000\r\n", "invalid chunk size")]
    public async Task MalformedChunks_AreAnInvalidResponse(string chunks, string what)
    {
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => CopyAsync("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks, 2));
        Assert.Equal(HttpRequestError.InvalidResponse, error.HttpRequestError);
        Assert.Contains(what, error.Message);
    }

    [Fact]
    public async Task ChunkedBodyCutShort_HasEndedWithTheConnection()
    {
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => CopyAsync("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", 2, close: true));
        Assert.Equal(HttpRequestError.ResponseEnded, error.HttpRequestError);
    }

    [Fact]
    public async Task ChunkSizeLineWithoutEnd_IsRefusedPastFourKilobytes()
    {
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => CopyAsync("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;" + new string('x', 5000), 512));
        Assert.Contains("longer than 4 KB", error.Message);
    }
}
