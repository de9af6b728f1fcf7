using System.Net;
using Foobar.Http;

namespace Foobar.Web.Tests.Static;

public sealed class ErrorPagesAndCachingTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("foobar-pages-").FullName;

    public ErrorPagesAndCachingTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "assets"));
        File.WriteAllText(Path.Combine(_root, "assets", "site.css"), "body{}");
        File.WriteAllText(Path.Combine(_root, "b.css"), "p{}");
        File.WriteAllText(Path.Combine(_root, "page.html"), "<p>page</p>");
        File.WriteAllText(Path.Combine(_root, "notes.txt"), "notes");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private Task<WebSite> StartAsync(bool appUp = true) => WebSite.StartAsync(_root, appUp: appUp, configure: options => options with
    {
        StaticPrefixes = ["/assets/"],
        CacheControl = [new("/assets/", "public, max-age=31536000, immutable"), new("*.css", "max-age=60"), new("*.html", "no-cache")],
    });

    [Fact]
    public async Task MissUnderAStaticPrefix_Is404WithTheSitesPage_AndNeverReachesTheApp()
    {
        await File.WriteAllTextAsync(Path.Combine(_root, "404.html"), "<h1>lost</h1>");
        await using var site = await StartAsync();

        using var response = await site.Client.GetAsync(new Uri("/assets/missing.css", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("<h1>lost</h1>", await response.Content.ReadAsStringAsync());
        Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("web1", string.Join(",", response.Headers.GetValues(ServedBy.HeaderName)));
    }

    [Fact]
    public async Task MissUnderAStaticPrefix_WithoutAPage_IsAPlainText404()
    {
        await using var site = await StartAsync();

        using var response = await site.Client.GetAsync(new Uri("/assets/missing.css", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.StartsWith("404 Not Found", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task PostUnderAStaticPrefix_Is405_NamingTheMethodsAllowed()
    {
        await using var site = await StartAsync();

        using var response = await site.Client.PostAsync(new Uri("/assets/site.css", UriKind.Relative), new StringContent("x"));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(["GET", "HEAD"], response.Content.Headers.Allow);
    }

    [Fact]
    public async Task NoAppServerAnswering_GetsTheSites50xPage()
    {
        await File.WriteAllTextAsync(Path.Combine(_root, "50x.html"), "<h1>back soon</h1>");
        await using var site = await StartAsync(appUp: false);

        using var response = await site.Client.GetAsync(new Uri("/guestbook", UriKind.Relative));

        Assert.InRange((int)response.StatusCode, 500, 599);
        Assert.Equal("<h1>back soon</h1>", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/assets/site.css", "public, max-age=31536000, immutable")]
    [InlineData("/b.css", "max-age=60")]
    [InlineData("/page.html", "no-cache")]
    [InlineData("/notes.txt", null)]
    public async Task CacheControl_FirstMatchingRuleWins(string path, string? expected)
    {
        await using var site = await StartAsync();

        using var response = await site.Client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, response.Headers.CacheControl?.ToString());
    }
}
