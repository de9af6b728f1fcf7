using System.Net;
using System.Text.RegularExpressions;

namespace Foobar.EndToEnd.Tests;

/// <summary>The guestbook page through the public address, as a browser without JavaScript uses it: the form, the redirect, paging, escaping, anti-forgery.</summary>
public sealed partial class GuestbookPageTests(RunningTopology topology) : IClassFixture<RunningTopology>
{
    [GeneratedRegex("name=\"token\" value=\"([0-9a-f]{32})\"")]
    private static partial Regex TokenField();

    private static async Task<string> TokenAsync(Guestbook browser)
    {
        using var page = await browser.SendAsync(HttpMethod.Get, "/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        return TokenField().Match(await page.Content.ReadAsStringAsync()).Groups[1].Value;
    }

    private static string Form(params (string Key, string Value)[] fields) =>
        string.Join("&", fields.Select(f => $"{Uri.EscapeDataString(f.Key)}={Uri.EscapeDataString(f.Value)}"));

    private static Task<HttpResponseMessage> PostFormAsync(Guestbook browser, string body) =>
        browser.SendAsync(HttpMethod.Post, "/sign", body, "application/x-www-form-urlencoded");

    [Fact]
    public async Task Sign_ThroughTheForm_RedirectsToThePage_WhereTheEntryIsAtOnce_AsText()
    {
        using var browser = new Guestbook(topology);
        var token = await TokenAsync(browser);
        var message = $"<script>alert('{Guid.NewGuid():N}')</script> & \"quotes\"";

        using var signed = await PostFormAsync(browser, Form(("token", token), ("name", "Ada <b>"), ("message", message)));
        var location = signed.Headers.Location?.ToString() ?? "";
        using var page = await browser.SendAsync(HttpMethod.Get, "/");
        var html = await page.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.SeeOther, signed.StatusCode);
        Assert.Matches("^/#entry-[0-9]+$", location);
        Assert.Contains($"id=\"{location[2..]}\"", html);
        // Read-your-writes: the replica read waited for this write. Escaped everywhere: no tag of the person's survives.
        Assert.Contains("&lt;script&gt;alert(", html);
        Assert.Contains("Ada &lt;b&gt;", html);
        Assert.DoesNotContain("<script>alert(", html);
        // lb, web, app, and the db server that answered the read.
        Assert.Matches("^lb[12], web[12], app[12], db[12]$", string.Join(",", page.Headers.GetValues("X-Served-By")));
    }

    [Fact]
    public async Task Sign_WithoutTheTokenOrWithAnotherBrowsersToken_IsRefused_AndNothingIsWritten()
    {
        using var victim = new Guestbook(topology);
        using var attacker = new Guestbook(topology);
        var attackersToken = await TokenAsync(attacker);
        await TokenAsync(victim);
        var marker = Guid.NewGuid().ToString("N");

        using var none = await PostFormAsync(victim, Form(("name", "x"), ("message", marker)));
        using var foreign = await PostFormAsync(victim, Form(("token", attackersToken), ("name", "x"), ("message", marker)));
        using var page = await victim.SendAsync(HttpMethod.Get, "/");

        Assert.Equal(HttpStatusCode.Forbidden, none.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, foreign.StatusCode);
        Assert.Contains("sign again", await foreign.Content.ReadAsStringAsync());
        Assert.DoesNotContain(marker, await page.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("", "hello", "name is required")]
    [InlineData("Ada", "   ", "message is required")]
    [InlineData("Ada", "LONG", "at most 1000 are allowed")]
    public async Task Sign_InvalidFields_ShowTheFormAgainWithTheProblemAndWhatWasTyped(string name, string message, string problem)
    {
        using var browser = new Guestbook(topology);
        var token = await TokenAsync(browser);
        message = message == "LONG" ? new string('m', 1001) : message;

        using var response = await PostFormAsync(browser, Form(("token", token), ("name", name), ("message", message)));
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal((HttpStatusCode)422, response.StatusCode);
        Assert.Contains(problem, html);
        Assert.Contains($"value=\"{name}\"", html);
    }

    [Theory]
    [InlineData("/sign", "{\"name\":\"a\"}", "application/json", 415)]
    [InlineData("/?before=abc", null, null, 400)]
    [InlineData("/?before=0", null, null, 400)]
    public async Task Page_BadRequests_AreClearErrors(string path, string? body, string? contentType, int status)
    {
        using var browser = new Guestbook(topology);

        using var response = body is null
            ? await browser.SendAsync(HttpMethod.Get, path)
            : await browser.SendAsync(HttpMethod.Post, path, body, contentType!);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Contains("class=\"problem\"", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Paging_OlderEntries_FollowOnWithoutOverlap()
    {
        using var browser = new Guestbook(topology);
        for (var i = 0; i < 12; i++)
        {
            using var signed = await browser.SignAsync("pager", $"entry {i}");
            Assert.Equal(HttpStatusCode.Created, signed.StatusCode);
        }

        using var first = await browser.SendAsync(HttpMethod.Get, "/");
        var firstHtml = await first.Content.ReadAsStringAsync();
        var next = Regex.Match(firstHtml, "href=\"(/\\?before=[0-9]+)\" rel=\"next\"").Groups[1].Value;
        using var second = await browser.SendAsync(HttpMethod.Get, WebUtility.HtmlDecode(next));
        var secondHtml = await second.Content.ReadAsStringAsync();

        var firstIds = Regex.Matches(firstHtml, "id=\"entry-([0-9]+)\"").Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var secondIds = Regex.Matches(secondHtml, "id=\"entry-([0-9]+)\"").Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(10, firstIds.Count);
        Assert.NotEmpty(secondIds);
        Assert.True(firstIds.Min() > secondIds.Max(), "the second page holds only older entries");
        Assert.Contains("Older entries", secondHtml);
    }

    [GeneratedRegex("<span class=\"tier\">([a-z ]+)</span> <strong>([^<]+)</strong>")]
    private static partial Regex Hop();

    [Fact]
    public async Task Infrastructure_ShowsThePathThisRequestTook_AsXServedBySaysIt_AndMarksThoseServers()
    {
        using var browser = new Guestbook(topology, IPAddress.Parse("127.0.0.71"));

        // The client forges X-Forwarded-For: the page still names the address the load balancer saw.
        using var response = await browser.SendAsync(HttpMethod.Get, "/infrastructure", forwardedFor: "203.0.113.5");
        var html = await response.Content.ReadAsStringAsync();
        var servedBy = string.Join(",", response.Headers.GetValues("X-Served-By")).Split(',', StringSplitOptions.TrimEntries);
        var hops = Hop().Matches(html).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Matches("^lb[12],web[12],app[12],db[12]$", string.Join(",", servedBy));
        Assert.Equal("127.0.0.71", hops["client"]);
        Assert.Equal(servedBy, new[] { hops["load balancer"], hops["web server"], hops["app server"], hops["database"] });
        var marked = Regex.Matches(html, "<tr class=\"on-path\"><td>([a-z0-9]+)</td>").Select(m => m.Groups[1].Value).Order();
        Assert.Equal(servedBy.Order(), marked);
        // Every server of the topology is listed.
        foreach (var server in new[] { "dns1", "lb1", "lb2", "web1", "web2", "app1", "app2", "db1", "db2" })
        {
            Assert.Contains($"<td>{server}</td>", html);
        }
    }

    [Fact]
    public async Task Infrastructure_Reloaded_ShowsTheTiersTakingTurns()
    {
        using var browser = new Guestbook(topology);
        var webServers = new HashSet<string>();
        var appServers = new HashSet<string>();

        for (var i = 0; i < 8 && (webServers.Count < 2 || appServers.Count < 2); i++)
        {
            using var response = await browser.SendAsync(HttpMethod.Get, "/infrastructure");
            var hops = Hop().Matches(await response.Content.ReadAsStringAsync()).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
            webServers.Add(hops["web server"]);
            appServers.Add(hops["app server"]);
        }

        Assert.Equal(["web1", "web2"], webServers.Order());
        Assert.Equal(["app1", "app2"], appServers.Order());
    }
}
