using System.Net.Sockets;
using System.Text;
using Foobar.Testing;

namespace Foobar.EndToEnd.Tests;

/// <summary>
/// Requests no well-behaved client sends, at the public address: each gets a clear 4xx or a closed
/// connection from the load balancer, never reaches a web server ambiguously, and leaves it serving.
/// </summary>
public partial class SiteTests
{
    [Theory]
    [InlineData("GARBAGE\r\n\r\n", "400")]
    [InlineData("GET / HTTP/1.1\r\nHost: www.foobar.com\r\nBad Header Without Colon\r\n\r\n", "400")]
    [InlineData("GET / HTTP/9.9\r\nHost: www.foobar.com\r\n\r\n", "505")]
    [InlineData("POST /api/entries HTTP/1.1\r\nHost: www.foobar.com\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello", "400")]
    [InlineData("POST /api/entries HTTP/1.1\r\nHost: www.foobar.com\r\nTransfer-Encoding: gzip, chunked, identity\r\n\r\n", "400")]
    [InlineData("POST /api/entries HTTP/1.1\r\nHost: www.foobar.com\r\nContent-Length: -1\r\n\r\n", "400")]
    [InlineData("GET / HTTP/1.1\r\n\r\n", "400")]
    public async Task MalformedOrAmbiguousRequests_AreRefusedWithA4xx_AndTheSiteStillAnswers(string request, string status)
    {
        var response = await RawHttp.ExchangeAsync(topology.PublicAddress, 80, request);

        Assert.Equal(status, RawHttp.StatusOf(response));
        Assert.DoesNotContain("web1", response);
        Assert.DoesNotContain("web2", response);
        using var after = await topology.GetAsync("/");
        Assert.Equal(System.Net.HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task ContentLengthAndTransferEncoding_TheChunkedFramingWins_AndTheWebServerGetsOneUnambiguousRequest()
    {
        // Content-Length claims 5 bytes; the chunked body is a whole entry. Read by Content-Length
        // the app would get "{\"nam" (400, and the rest smuggled as a next request); read chunked, one entry.
        const string body = "{\"name\":\"smuggler\",\"message\":\"one request only\"}";
        var request = "POST /api/entries HTTP/1.1\r\nHost: www.foobar.com\r\nContent-Type: application/json\r\nContent-Length: 5\r\n" +
            $"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{body.Length:x}\r\n{body}\r\n0\r\n\r\n";

        var response = await RawHttp.ExchangeAsync(topology.PublicAddress, 80, request);

        Assert.Equal("201", RawHttp.StatusOf(response));
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(response, "HTTP/1.1 "));
    }

    [Fact]
    public async Task BodyOverTheDefaultLimit_Is413FromTheLoadBalancer()
    {
        var response = await RawHttp.ExchangeAsync(topology.PublicAddress, 80,
            "POST /api/entries HTTP/1.1\r\nHost: www.foobar.com\r\nContent-Length: 40000000\r\n\r\n{}");

        Assert.Equal("413", RawHttp.StatusOf(response));
        Assert.Contains("X-Served-By: lb", response);
        Assert.DoesNotContain("web1", response);
        Assert.DoesNotContain("web2", response);
    }

    [Fact]
    public async Task OversizedHeaders_Are431()
    {
        var request = $"GET / HTTP/1.1\r\nHost: www.foobar.com\r\nX-Big: {new string('a', 40 * 1024)}\r\n\r\n";

        var response = await RawHttp.ExchangeAsync(topology.PublicAddress, 80, request);

        Assert.Equal("431", RawHttp.StatusOf(response));
    }

    [Fact]
    public async Task HeadersSentByteByByte_TimeOutAndTheConnectionIsClosed()
    {
        using var client = new TcpClient();
        await client.ConnectAsync(topology.PublicAddress, 80);
        var stream = client.GetStream();
        var elapsed = await RawHttp.TimeAsync(async () =>
        {
            // One byte a second, never finishing the headers: the load balancer must not wait forever.
            var headers = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: www.foobar.com\r\nX-Slow: " + new string('s', 60));
            try
            {
                foreach (var b in headers)
                {
                    await stream.WriteAsync(new[] { b });
                    using var pause = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                    var one = new byte[1];
                    try
                    {
                        if (await stream.ReadAsync(one, pause.Token) == 0)
                        {
                            return; // closed
                        }
                        var rest = await RawHttp.ReadUntilClosedAsync(stream, TimeSpan.FromSeconds(5));
                        Assert.StartsWith("HTTP/1.1 408", Encoding.ASCII.GetString(one) + rest);
                        return;
                    }
                    catch (OperationCanceledException)
                    {
                        // Nothing yet: send the next byte.
                    }
                }
            }
            catch (IOException)
            {
                // Reset by the server.
            }
            Assert.Fail("the connection was still open after the slow headers");
        });

        // KestrelSettings.RequestHeadersTimeout is 10 s (Kestrel checks once a second); its default would be 30 s.
        Assert.InRange(elapsed, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(20));
    }
}
