using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Foobar.Http;
using Foobar.Http.Backends;
using Foobar.Http.Forwarder;
using Foobar.Http.LoadBalancing;
using Foobar.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Foobar.Web.Tests.Static;

/// <summary>Static files through a real web server (Kestrel) from a real directory, with an app server behind it.</summary>
public sealed class StaticFileTests : IAsyncLifetime
{
    private const string Ten = "0123456789";
    private readonly string _dir = Directory.CreateTempSubdirectory("foobar-static-").FullName;
    private WebSite _site = null!;

    private string Root => Path.Combine(_dir, "site");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(Root, "docs"));
        await File.WriteAllTextAsync(Path.Combine(Root, "ten.txt"), Ten);
        await File.WriteAllTextAsync(Path.Combine(Root, "docs", "index.html"), "<h1>docs</h1>");
        await File.WriteAllTextAsync(Path.Combine(Root, "page.css"), string.Concat(Enumerable.Repeat("body { color: #333; }\n", 100)));
        await File.WriteAllTextAsync(Path.Combine(Root, "logo.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
        await File.WriteAllBytesAsync(Path.Combine(Root, "data.bin"), [1, 2, 3]);
        await File.WriteAllTextAsync(Path.Combine(Root, ".env"), "SECRET=1");
        await File.WriteAllTextAsync(Path.Combine(_dir, "outside.txt"), "outside the root");
        File.CreateSymbolicLink(Path.Combine(Root, "escape.txt"), Path.Combine(_dir, "outside.txt"));
        File.CreateSymbolicLink(Path.Combine(Root, "alias.txt"), Path.Combine(Root, "ten.txt"));
        Directory.CreateSymbolicLink(Path.Combine(Root, "up"), _dir);
        _site = await WebSite.StartAsync(Root);
    }

    public async Task DisposeAsync()
    {
        await _site.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<HttpResponseMessage> GetAsync(string path, Action<HttpRequestHeaders>? headers = null, HttpMethod? method = null)
    {
        var request = new HttpRequestMessage(method ?? HttpMethod.Get, new Uri(path, UriKind.Relative));
        headers?.Invoke(request.Headers);
        return await _site.Client.SendAsync(request);
    }

    [Theory]
    [InlineData("bytes=0-3", "0123", "bytes 0-3/10")]
    [InlineData("bytes=7-", "789", "bytes 7-9/10")]
    [InlineData("bytes=-3", "789", "bytes 7-9/10")]
    [InlineData("bytes=8-100", "89", "bytes 8-9/10")]
    [InlineData("bytes=-100", Ten, "bytes 0-9/10")]
    public async Task Range_One_Is206WithThoseBytes(string range, string body, string contentRange)
    {
        using var response = await GetAsync("/ten.txt", h => h.TryAddWithoutValidation("Range", range));

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
        Assert.Equal(contentRange, response.Content.Headers.ContentRange?.ToString());
    }

    [Theory]
    [InlineData("bytes=10-")]
    [InlineData("bytes=100-200")]
    [InlineData("bytes=-0")]
    public async Task Range_PastTheEnd_Is416WithTheLength(string range)
    {
        using var response = await GetAsync("/ten.txt", h => h.TryAddWithoutValidation("Range", range));

        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        Assert.Equal("bytes */10", response.Content.Headers.ContentRange?.ToString());
    }

    [Theory]
    [InlineData("bytes=0-1,4-5")]
    [InlineData("bytes=abc")]
    [InlineData("bytes=5-2")]
    [InlineData("items=0-3")]
    [InlineData("bytes=99999999999999999999999-")]
    public async Task Range_SeveralOrUnreadable_IsIgnored_TheWholeFileIs200(string range)
    {
        using var response = await GetAsync("/ten.txt", h => h.TryAddWithoutValidation("Range", range));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Ten, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task IfRange_ForAnotherVersion_GetsTheWholeFile()
    {
        using var response = await GetAsync("/ten.txt", h =>
        {
            h.TryAddWithoutValidation("Range", "bytes=0-3");
            h.TryAddWithoutValidation("If-Range", "\"some-older-version\"");
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Ten, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Conditional_IfModifiedSince_Is304_IfMatchAnother_Is412_IfUnmodifiedSinceBefore_Is412()
    {
        using var first = await GetAsync("/ten.txt");
        var lastModified = first.Content.Headers.LastModified!.Value;

        using var notModified = await GetAsync("/ten.txt", h => h.IfModifiedSince = lastModified);
        using var modified = await GetAsync("/ten.txt", h => h.IfModifiedSince = lastModified.AddSeconds(-1));
        using var otherTag = await GetAsync("/ten.txt", h => h.TryAddWithoutValidation("If-Match", "\"other\""));
        using var sameTag = await GetAsync("/ten.txt", h => h.IfMatch.Add(first.Headers.ETag!));
        using var changedSince = await GetAsync("/ten.txt", h => h.IfUnmodifiedSince = lastModified.AddDays(-1));

        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(first.Headers.ETag, notModified.Headers.ETag);
        Assert.Equal(HttpStatusCode.OK, modified.StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, otherTag.StatusCode);
        Assert.Equal(HttpStatusCode.OK, sameTag.StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, changedSince.StatusCode);
    }

    [Fact]
    public async Task Precompressed_BrotliPreferred_GzipNext_IdentityOtherwise_EachWithItsOwnETag()
    {
        await File.WriteAllTextAsync(Path.Combine(Root, "app.js"), "console.log('hi');");
        await File.WriteAllBytesAsync(Path.Combine(Root, "app.js.br"), Encoding.ASCII.GetBytes("BROTLI-BYTES"));
        await File.WriteAllBytesAsync(Path.Combine(Root, "app.js.gz"), Encoding.ASCII.GetBytes("GZIP-BYTES"));

        using var br = await GetAsync("/app.js", h => h.TryAddWithoutValidation("Accept-Encoding", "gzip, deflate, br"));
        using var gzip = await GetAsync("/app.js", h => h.TryAddWithoutValidation("Accept-Encoding", "gzip"));
        using var identity = await GetAsync("/app.js");

        Assert.Equal("br", Assert.Single(br.Content.Headers.ContentEncoding));
        Assert.Equal("BROTLI-BYTES", await br.Content.ReadAsStringAsync());
        Assert.Equal("gzip", Assert.Single(gzip.Content.Headers.ContentEncoding));
        Assert.Equal("GZIP-BYTES", await gzip.Content.ReadAsStringAsync());
        Assert.Empty(identity.Content.Headers.ContentEncoding);
        Assert.Equal("console.log('hi');", await identity.Content.ReadAsStringAsync());
        Assert.Contains("Accept-Encoding", identity.Headers.Vary);
        Assert.Equal(3, new[] { br.Headers.ETag, gzip.Headers.ETag, identity.Headers.ETag }.Distinct().Count());
        Assert.StartsWith("text/javascript", identity.Content.Headers.ContentType?.ToString());
    }

    [Fact]
    public async Task Precompressed_OlderThanTheFile_IsNotServed()
    {
        var js = Path.Combine(Root, "stale.js");
        await File.WriteAllTextAsync(js + ".gz", "OLD-GZIP");
        File.SetLastWriteTimeUtc(js + ".gz", DateTime.UtcNow.AddHours(-1));
        await File.WriteAllTextAsync(js, "let fresh = 1;");

        using var response = await GetAsync("/stale.js", h => h.TryAddWithoutValidation("Accept-Encoding", "gzip"));

        Assert.Equal("let fresh = 1;", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task SmallTextFile_IsCompressedOnce_AndDecompressesToTheFile()
    {
        using var response = await GetAsync("/page.css", h => h.TryAddWithoutValidation("Accept-Encoding", "gzip"));

        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
        var compressed = await response.Content.ReadAsByteArrayAsync();
        using var gunzip = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(Root, "page.css")), await new StreamReader(gunzip).ReadToEndAsync());
        Assert.True(compressed.Length < 200, $"{compressed.Length} bytes");
    }

    [Theory]
    [InlineData("br;q=0, gzip;q=0")]
    [InlineData("br;q=abc, gzip;q=-1")]
    [InlineData("identity")]
    [InlineData(";;;,,,====,q=1,;q=0.5")]
    public async Task AcceptEncodingRefusingOrUnreadable_GetsTheFileAsItIs(string acceptEncoding)
    {
        using var response = await GetAsync("/page.css", h => h.TryAddWithoutValidation("Accept-Encoding", acceptEncoding));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(response.Content.Headers.ContentEncoding);
    }

    [Fact]
    public async Task AcceptEncoding_Absurdly_Long_IsAnsweredNormally()
    {
        var absurd = string.Join(", ", Enumerable.Range(0, 1000).Select(i => $"x-coding-{i};q=0.{i % 10}"));

        using var response = await GetAsync("/page.css", h => h.TryAddWithoutValidation("Accept-Encoding", absurd + ", br"));

        // Past the first entries nothing is read: uncompressed, but answered.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(response.Content.Headers.ContentEncoding);
    }

    [Fact]
    public async Task Head_HasTheHeadersAndNoBody()
    {
        using var response = await GetAsync("/ten.txt", method: HttpMethod.Head);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(10, response.Content.Headers.ContentLength);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("bytes", Assert.Single(response.Headers.AcceptRanges));
    }

    [Theory]
    [InlineData("/ten.txt", "text/plain; charset=utf-8")]
    [InlineData("/logo.svg", "image/svg+xml")]
    [InlineData("/data.bin", "application/octet-stream")]
    [InlineData("/docs/", "text/html; charset=utf-8")]
    public async Task ContentTypes_FollowTheExtension(string path, string contentType)
    {
        using var response = await GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(contentType, response.Content.Headers.ContentType?.ToString());
    }

    [Fact]
    public async Task LargeFile_IsSentFromDisk_WholeAndInRanges()
    {
        var bytes = new byte[300_000];
        new Random(7).NextBytes(bytes);
        await File.WriteAllBytesAsync(Path.Combine(Root, "big.bin"), bytes);

        using var whole = await GetAsync("/big.bin");
        using var part = await GetAsync("/big.bin", h => h.TryAddWithoutValidation("Range", "bytes=100000-100009"));

        Assert.Equal(bytes, await whole.Content.ReadAsByteArrayAsync());
        Assert.Equal(bytes[100_000..100_010], await part.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("/escape.txt")]
    [InlineData("/up/outside.txt")]
    [InlineData("/.env")]
    [InlineData("/ten.txt%00.png")]
    public async Task LinksOutOfTheRoot_HiddenFiles_AndNulBytes_AreNeverServedFromDisk(string path)
    {
        using var response = await _site.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(_site.BaseUri, path)));

        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("outside the root", body);
        Assert.DoesNotContain("SECRET", body);
        Assert.DoesNotContain(Ten, body);
    }

    [Theory]
    [InlineData("/alias.txt")]
    [InlineData("/up/site/ten.txt")]
    public async Task LinkThatEndsInsideTheRoot_IsServed(string path)
    {
        using var response = await GetAsync(path);

        Assert.Equal(Ten, await response.Content.ReadAsStringAsync());
    }
}
