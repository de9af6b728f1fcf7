using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Foobar.EndToEnd.Tests;

/// <summary>The default topology with <c>app.write_limit: 3/min</c>: each real client signs at most three times a minute.</summary>
public sealed class WriteLimitedTopology() : RunningTopology(https: false, writeLimit: "3/min");

/// <summary>
/// <c>app.write_limit</c> through the whole chain: the app servers limit the client the load
/// balancer saw, whatever the client writes in <c>X-Forwarded-For</c>. Each test is a client of its
/// own (its own source address), since the allowance is per client.
/// </summary>
public sealed partial class WriteLimitTests(WriteLimitedTopology topology) : IClassFixture<WriteLimitedTopology>
{
    [Fact]
    public async Task Api_BeyondTheLimit_Is429WithRetryAfter_ForThatClientOnly_EvenWithAForgedForwardedFor()
    {
        var client = IPAddress.Parse("127.0.0.61");
        using var browser = new Guestbook(topology, client);
        using var other = new Guestbook(topology, IPAddress.Parse("127.0.0.62"));
        // Reads first: every write attempt counts, a refused one too.
        (await Poll.UntilAsync(() => browser.SendAsync(HttpMethod.Get, "/api/entries"), r => r.StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(60), "the entries")).Dispose();
        for (var i = 0; i < 3; i++)
        {
            using var signed = await browser.SignAsync("limited", $"entry {i}");
            Assert.Equal(HttpStatusCode.Created, signed.StatusCode);
        }

        using var refused = await browser.SignAsync("limited", "one too many");
        using var forged = await browser.SendAsync(HttpMethod.Post, "/api/entries", """{"name":"limited","message":"forged"}""", forwardedFor: "198.51.100.7");
        using var others = await other.SignAsync("other client", "still allowed");

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(429, problem.GetProperty("status").GetInt32());
        Assert.Contains("127.0.0.61 may write 3 entries a minute", problem.GetProperty("detail").GetString());
        var retryAfter = int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 60);
        Assert.Equal(HttpStatusCode.TooManyRequests, forged.StatusCode);
        Assert.Equal(HttpStatusCode.Created, others.StatusCode);
    }

    [GeneratedRegex("name=\"token\" value=\"([0-9a-f]{32})\"")]
    private static partial Regex TokenField();

    [Fact]
    public async Task Form_BeyondTheLimit_ShowsThePageWithTheProblem_AndWritesNothing()
    {
        using var browser = new Guestbook(topology, IPAddress.Parse("127.0.0.63"));
        (await Poll.UntilAsync(() => browser.SendAsync(HttpMethod.Get, "/api/entries"), r => r.StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(60), "the entries")).Dispose();
        var marker = Guid.NewGuid().ToString("N");
        var statuses = new List<HttpStatusCode>();
        string html = "";
        for (var i = 0; i < 4; i++)
        {
            using var page = await browser.SendAsync(HttpMethod.Get, "/");
            var token = TokenField().Match(await page.Content.ReadAsStringAsync()).Groups[1].Value;
            using var signed = await browser.SendAsync(HttpMethod.Post, "/sign", $"token={token}&name=form&message={marker}-{i}", "application/x-www-form-urlencoded");
            statuses.Add(signed.StatusCode);
            html = await signed.Content.ReadAsStringAsync();
        }
        using var after = await browser.SendAsync(HttpMethod.Get, "/");
        var afterHtml = await after.Content.ReadAsStringAsync();

        Assert.Equal([HttpStatusCode.SeeOther, HttpStatusCode.SeeOther, HttpStatusCode.SeeOther, HttpStatusCode.TooManyRequests], statuses);
        Assert.Contains("class=\"problem\"", html);
        Assert.Contains("try again in", html);
        Assert.Contains($"{marker}-2", afterHtml);
        Assert.DoesNotContain($"{marker}-3", afterHtml);
    }
}
