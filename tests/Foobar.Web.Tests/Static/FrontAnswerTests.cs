using System.Net;
using System.Security.Cryptography;
using Foobar.Testing;

namespace Foobar.Web.Tests.Static;

/// <summary>
/// Files answered by the front (<c>Http1Front</c>) without Kestrel, as Foobar's web servers on
/// plain HTTP answer them: the same bytes and headers as Kestrel's pipeline gives, large bodies
/// sent from the cache on Foobar's transport, conditional and ranged requests left to Kestrel.
/// </summary>
public sealed class FrontAnswerTests : IAsyncLifetime
{
    private const int BigLength = 1 << 20;

    private readonly string _dir = Directory.CreateTempSubdirectory("foobar-front-").FullName;
    private WebSite _front = null!;
    private WebSite _kestrel = null!;

    private string Root => Path.Combine(_dir, "site");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(Root, "assets"));
        await File.WriteAllTextAsync(Path.Combine(Root, "assets", "site.css"), string.Concat(Enumerable.Repeat("body { color: #333; }\n", 100)));
        await File.WriteAllBytesAsync(Path.Combine(Root, "assets", "big.bin"), Big());
        await File.WriteAllTextAsync(Path.Combine(Root, "index.html"), "<!doctype html><title>home</title>");
        await File.WriteAllTextAsync(Path.Combine(_dir, "secret.txt"), "outside the root");
        _front = await WebSite.StartAsync(Root, front: true);
        _kestrel = await WebSite.StartAsync(Root);
    }

    [Theory]
    [InlineData("/assets/site.css", null)]
    [InlineData("/assets/site.css", "br")]
    [InlineData("/assets/site.css", "gzip, deflate")]
    [InlineData("/assets/big.bin", null)]
    [InlineData("/", null)]
    public async Task AFile_IsAnsweredByTheFront_WithTheBytesAndHeadersKestrelGives(string path, string? acceptEncoding)
    {
        var (frontStatus, frontHeaders, frontBody) = await GetAsync(_front, path, AcceptEncoding(acceptEncoding));
        var (status, headers, body) = await GetAsync(_kestrel, path, AcceptEncoding(acceptEncoding));

        Assert.Equal(1, _front.Front!.Connections);
        Assert.Equal(HttpStatusCode.OK, frontStatus);
        Assert.Equal(status, frontStatus);
        Assert.Equal(headers, frontHeaders);
        Assert.Equal(SHA256.HashData(body), SHA256.HashData(frontBody));
    }

    [Fact]
    public async Task ABigFile_ManyTimesOnOneConnection_ArrivesWholeEachTime_AndHeadHasNoBody()
    {
        var expected = SHA256.HashData(Big());
        for (var i = 0; i < 5; i++)
        {
            var body = await _front.Client.GetByteArrayAsync(new Uri("/assets/big.bin", UriKind.Relative));
            Assert.Equal(expected, SHA256.HashData(body));
        }
        using var head = await _front.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/assets/big.bin"));

        Assert.Equal(BigLength, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, _front.Front!.Connections);
    }

    [Theory]
    [InlineData("/assets/site.css", "If-None-Match", "*", HttpStatusCode.NotModified)]
    [InlineData("/assets/site.css", "If-None-Match", "\"another\", W/\"other\"", HttpStatusCode.OK)]
    [InlineData("/assets/big.bin", "If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT", HttpStatusCode.NotModified)]
    [InlineData("/assets/big.bin", "If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT", HttpStatusCode.OK)]
    [InlineData("/assets/big.bin", "If-Modified-Since", "not a date", HttpStatusCode.OK)]
    [InlineData("/assets/big.bin", "If-None-Match", "unquoted garbage", HttpStatusCode.OK)]
    public async Task ACacheRevalidating_IsAnsweredByTheFront_AsKestrelAnswersIt(string path, string header, string value, HttpStatusCode expected)
    {
        var (frontStatus, frontHeaders, frontBody) = await GetAsync(_front, path, (header, value));
        var (status, headers, body) = await GetAsync(_kestrel, path, (header, value));

        Assert.Equal(1, _front.Front!.Connections);
        Assert.Equal(expected, frontStatus);
        Assert.Equal(status, frontStatus);
        Assert.Equal(headers, frontHeaders);
        Assert.Equal(body, frontBody);
    }

    [Fact]
    public async Task TheETagOfTheBrotliForm_Is304ForThatForm_AndTheWholeFileForAClientWithoutBrotli()
    {
        using var first = await _front.Client.SendAsync(Get("/assets/site.css", ("Accept-Encoding", "br")));
        var etag = first.Headers.ETag!.ToString();

        var again = await GetAsync(_front, "/assets/site.css", ("Accept-Encoding", "br"), ("If-None-Match", etag));
        var withoutBrotli = await GetAsync(_front, "/assets/site.css", ("If-None-Match", etag));

        Assert.Equal(HttpStatusCode.NotModified, again.Status);
        Assert.Equal((await GetAsync(_kestrel, "/assets/site.css", ("Accept-Encoding", "br"), ("If-None-Match", etag))).Headers, again.Headers);
        Assert.Equal(HttpStatusCode.OK, withoutBrotli.Status);
        Assert.Equal(1, _front.Front!.Connections);
    }

    [Theory]
    [InlineData("Range", "bytes=0-9", HttpStatusCode.PartialContent, 10)]
    [InlineData("If-Match", "\"another\"", HttpStatusCode.PreconditionFailed, 0)]
    [InlineData("If-Unmodified-Since", "Thu, 01 Jan 1970 00:00:00 GMT", HttpStatusCode.PreconditionFailed, 0)]
    public async Task ARangeOrAPrecondition_IsLeftToKestrel(string header, string value, HttpStatusCode expected, int length)
    {
        using var response = await _front.Client.SendAsync(Get("/assets/big.bin", (header, value)));

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(length, (await response.Content.ReadAsByteArrayAsync()).Length);
        Assert.Equal(0, _front.Front!.Connections);
    }

    [Fact]
    public async Task AnEditedFile_IsAnsweredAnew()
    {
        Assert.StartsWith("body", await _front.Client.GetStringAsync(new Uri("/assets/site.css", UriKind.Relative)));

        await File.WriteAllTextAsync(Path.Combine(Root, "assets", "site.css"), "p { margin: 0; }\n");

        await Eventually.TrueAsync(async () => await _front.Client.GetStringAsync(new Uri("/assets/site.css", UriKind.Relative)) == "p { margin: 0; }\n",
            "the front answers with the new file");
        Assert.Equal(1, _front.Front!.Connections);
    }

    [Theory]
    [InlineData("/../secret.txt")]
    [InlineData("/assets/../../secret.txt")]
    [InlineData("/assets/./../../secret.txt")]
    [InlineData("/%2e%2e/secret.txt")]
    [InlineData("/assets/..%2f..%2fsecret.txt")]
    [InlineData("/assets/..%5c..%5csecret.txt")]
    [InlineData("/%252e%252e/secret.txt")]
    [InlineData("/assets/site.css%00/../../../secret.txt")]
    [InlineData("/..\\secret.txt")]
    public async Task Traversal_AsSentOnTheWire_NeverServesAFileOutsideTheRoot(string target)
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await socket.ConnectAsync(_front.BaseUri.Host, _front.BaseUri.Port);
        await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes($"GET {target} HTTP/1.1\r\nHost: www.foobar.com\r\nConnection: close\r\n\r\n"));

        var answer = new System.Text.StringBuilder();
        var buffer = new byte[4096];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        for (int n; (n = await socket.ReceiveAsync(buffer, deadline.Token)) > 0;)
        {
            answer.Append(System.Text.Encoding.Latin1.GetString(buffer, 0, n));
        }

        Assert.StartsWith("HTTP/1.1 ", answer.ToString());
        Assert.DoesNotContain("outside the root", answer.ToString());
    }

    private static (string, string)[] AcceptEncoding(string? value) => value is null ? [] : [("Accept-Encoding", value)];

    private static HttpRequestMessage Get(string path, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        return request;
    }

    private static async Task<(HttpStatusCode Status, string Headers, byte[] Body)> GetAsync(WebSite site, string path, params (string Name, string Value)[] requestHeaders)
    {
        using var response = await site.Client.SendAsync(Get(path, requestHeaders));
        var headers = response.Headers.Concat(response.Content.Headers)
            // The time, and Kestrel's Server header, which this fixture leaves on (Foobar's servers turn it off).
            .Where(h => h.Key is not ("Date" or "Server"))
            .Select(h => $"{h.Key.ToLowerInvariant()}: {string.Join(", ", h.Value)}")
            .Order(StringComparer.Ordinal);
        return (response.StatusCode, string.Join("\n", headers), await response.Content.ReadAsByteArrayAsync());
    }

    private static byte[] Big()
    {
        var bytes = new byte[BigLength];
        new Random(7).NextBytes(bytes);
        return bytes;
    }

    public async Task DisposeAsync()
    {
        await _front.DisposeAsync();
        await _kestrel.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}
