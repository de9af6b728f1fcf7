using System.Net;

namespace Foobar.Web.Tests;

public sealed class ReloadTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("foobar-web-reload-").FullName;

    public ReloadTests()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "one"));
        Directory.CreateDirectory(Path.Combine(_dir, "two"));
        File.WriteAllText(Path.Combine(_dir, "one", "page.html"), "first site");
        File.WriteAllText(Path.Combine(_dir, "two", "page.html"), "second site");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<(string Body, string? CacheControl)> GetAsync(WebSite site, string path)
    {
        using var response = await site.Client.GetAsync(new Uri(path, UriKind.Relative));
        return (await response.Content.ReadAsStringAsync(), response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task NewRootPrefixesAndRules_ApplyFromTheNextRequest()
    {
        await using var site = await WebSite.StartAsync(Path.Combine(_dir, "one"));
        Assert.Equal(("first site", null), await GetAsync(site, "/page.html"));
        Assert.Equal("app:/missing/x", (await GetAsync(site, "/missing/x")).Body);

        site.Server.Apply(site.Options with
        {
            Root = Path.Combine(_dir, "two"),
            StaticPrefixes = ["/missing/"],
            CacheControl = [new("*.html", "no-cache")],
        });

        Assert.Equal(("second site", "no-cache"), await GetAsync(site, "/page.html"));
        Assert.StartsWith("404", (await GetAsync(site, "/missing/x")).Body);
    }

    [Fact]
    public async Task MissingNewRoot_IsRefused_AndTheOldSettingsKeepServing()
    {
        await using var site = await WebSite.StartAsync(Path.Combine(_dir, "one"));

        Assert.Throws<DirectoryNotFoundException>(() => site.Server.Apply(site.Options with { Root = Path.Combine(_dir, "gone") }));

        using var response = await site.Client.GetAsync(new Uri("/page.html", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("first site", await response.Content.ReadAsStringAsync());
    }
}
