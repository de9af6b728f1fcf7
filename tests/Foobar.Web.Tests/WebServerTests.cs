using System.Net;
using Foobar.Http;
using Foobar.Http.Backends;
using Foobar.Http.Forwarder;
using Foobar.Http.LoadBalancing;
using Foobar.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Foobar.Web.Tests;

public sealed class WebServerTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("foobar-web-").FullName;
    private WebSite _site = null!;

    private string Root => Path.Combine(_dir, "site");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(Root, "assets"));
        Directory.CreateDirectory(Path.Combine(Root, "api"));
        await File.WriteAllTextAsync(Path.Combine(Root, "assets", "site.css"), "body{}");
        await File.WriteAllTextAsync(Path.Combine(Root, "api", "hello"), "static file under a proxy prefix");
        await File.WriteAllTextAsync(Path.Combine(_dir, "secret.txt"), "outside the root");
        _site = await WebSite.StartAsync(Root);
    }

    [Fact]
    public async Task StaticFile_IsServedByTheWebServerAlone()
    {
        using var response = await _site.Client.GetAsync(new Uri("/assets/site.css", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/css", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("web1", ServedByOf(response));
        Assert.NotNull(response.Headers.ETag);
    }

    [Fact]
    public async Task StaticFile_IfNoneMatch_Returns304()
    {
        using var first = await _site.Client.GetAsync(new Uri("/assets/site.css", UriKind.Relative));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/assets/site.css");
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);

        using var second = await _site.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
    }

    [Fact]
    public async Task ProxyPrefix_IsForwardedEvenWhenAFileMatches()
    {
        using var response = await _site.Client.GetAsync(new Uri("/api/hello", UriKind.Relative));

        Assert.Equal("app:/api/hello", await response.Content.ReadAsStringAsync());
        Assert.Equal("web1, app1", ServedByOf(response));
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/guestbook")]
    [InlineData("/assets")]
    public async Task PathWithoutAFile_IsForwardedToTheApp(string path)
    {
        using var response = await _site.Client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal($"app:{path}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Post_ToAStaticPath_GoesToTheApp()
    {
        using var response = await _site.Client.PostAsync(new Uri("/assets/site.css", UriKind.Relative), new StringContent(""));

        Assert.Equal("web1, app1", ServedByOf(response));
    }

    [Fact]
    public async Task Healthz_IsAnsweredHere()
    {
        using var response = await _site.Client.GetAsync(new Uri("/healthz", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("web1", ServedByOf(response));
    }

    [Theory]
    [InlineData("/../secret.txt")]
    [InlineData("/%2e%2e/secret.txt")]
    [InlineData("/assets/..%2f..%2fsecret.txt")]
    [InlineData("/assets/%2e%2e%5c%2e%2e%5csecret.txt")]
    [InlineData("/%252e%252e/secret.txt")]
    public async Task Traversal_NeverServesAFileOutsideTheRoot(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_site.BaseUri, path));

        using var response = await _site.Client.SendAsync(request);

        Assert.DoesNotContain("outside the root", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public void Configure_MissingRoot_NamesTheSettingToFix()
    {
        var builder = WebApplication.CreateSlimBuilder();
        var app = builder.Build();
        var pool = new BackendPool([], new RoundRobinPolicy());

        var e = Assert.Throws<DirectoryNotFoundException>(() =>
            WebServer.Configure(app, new WebOptions("web1", "/nonexistent/site", ["/api/"], pool), new HttpForwarder(ForwarderClient.Create(), NullLogger<HttpForwarder>.Instance)));

        Assert.Contains("/nonexistent/site", e.Message);
        Assert.Contains("web.root", e.Message);
    }

    public async Task DisposeAsync()
    {
        await _site.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private static string ServedByOf(HttpResponseMessage response) => string.Join(",", response.Headers.GetValues(ServedBy.HeaderName));
}
