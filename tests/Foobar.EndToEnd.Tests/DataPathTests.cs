using System.Net;
using System.Text.Json;

namespace Foobar.EndToEnd.Tests;

/// <summary>The application's data through the whole chain: lb → web → app → MariaDB primary or replica.</summary>
public sealed class DataPathTests(RunningTopology topology) : IClassFixture<RunningTopology>
{
    [Fact]
    public async Task Writes_LandOnThePrimary_ReadsOnTheReplica()
    {
        using var guestbook = new Guestbook(topology);
        using var signed = await SignedAsync(guestbook, "ann", "hello");

        Assert.Equal("db1", Guestbook.LastHop(signed));
        await Poll.UntilAsync(async () =>
        {
            using var read = await guestbook.SendAsync(HttpMethod.Get, "/api/entries");
            return read.StatusCode == HttpStatusCode.OK ? Guestbook.LastHop(read) : "";
        }, hop => hop == "db2", TimeSpan.FromSeconds(30), "a read served by the replica db2");
    }

    [Theory]
    [InlineData("/api/entries", 200)]
    [InlineData("/", 200)]
    [InlineData("/api/entries?limit=abc", 400)]
    [InlineData("/api/hello", 200)]
    public async Task TheApplicationsAnswers_CarryTheirLength_NotChunked(string path, int status)
    {
        // One write per response from the app server: head and body together, no end-of-body chunk after.
        using var guestbook = new Guestbook(topology);
        using var response = await guestbook.SendAsync(HttpMethod.Get, path);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(status, (int)response.StatusCode);
        Assert.True(body.Length > 0);
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        Assert.NotEqual(true, response.Headers.TransferEncodingChunked);
    }

    [Fact]
    public async Task ReadYourWrites_HoldsOver1000WriteThenReadPairs()
    {
        using var guestbook = new Guestbook(topology);
        await SignedAsync(guestbook, "warm", "up");
        var fromReplica = 0;
        for (var i = 0; i < 1000; i++)
        {
            using var signed = await guestbook.SignAsync("pair", $"write {i}");
            Assert.Equal(HttpStatusCode.Created, signed.StatusCode);
            var id = await Guestbook.IdOfAsync(signed);

            using var read = await guestbook.SendAsync(HttpMethod.Get, $"/api/entries/{id}");

            Assert.True(read.StatusCode == HttpStatusCode.OK, $"pair {i}: entry {id} not visible right after writing it ({read.StatusCode})");
            fromReplica += Guestbook.LastHop(read) == "db2" ? 1 : 0;
        }
        // Most reads still go to the replica: it waits for the write instead of sending everything to the primary.
        Assert.True(fromReplica > 500, $"only {fromReplica} of 1000 reads were served by the replica");
    }

    [Theory]
    [InlineData("POST", """{"message":"no name"}""", "application/json", 422, "name is required")]
    [InlineData("POST", """{"name":"x"}""", "application/json", 422, "message is required")]
    [InlineData("POST", """{"name":"   ","message":"blank name"}""", "application/json", 422, "name is required")]
    [InlineData("POST", "{\"name\":\"x\",\"message\":\"", "application/json", 400, "Malformed JSON")]
    [InlineData("POST", "[1,2]", "application/json", 400, "Malformed JSON")]
    [InlineData("POST", "name=x&message=y", "application/x-www-form-urlencoded", 415, "Content-Type: application/json")]
    [InlineData("DELETE", null, null, 405, "use GET or POST")]
    public async Task Api_BadRequests_AreProblemDetailsNamingTheFault(string method, string? body, string? contentType, int status, string detail)
    {
        using var guestbook = new Guestbook(topology);

        using var response = await guestbook.SendAsync(new HttpMethod(method), "/api/entries", body, contentType ?? "application/json");

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(detail, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Api_TooLongFieldsOrBody_AreRefused()
    {
        using var guestbook = new Guestbook(topology);

        using var longName = await guestbook.SignAsync(new string('n', 81), "m");
        using var longMessage = await guestbook.SignAsync("n", new string('m', 1001));
        using var huge = await guestbook.SendAsync(HttpMethod.Post, "/api/entries", JsonSerializer.Serialize(new { name = "n", message = new string('m', 20_000) }));

        Assert.Equal(422, (int)longName.StatusCode);
        Assert.Contains("at most 80", await longName.Content.ReadAsStringAsync());
        Assert.Equal(422, (int)longMessage.StatusCode);
        Assert.Equal(413, (int)huge.StatusCode);
    }

    [Theory]
    [InlineData("/api/entries/999999999", 404, "there is no entry 999999999")]
    [InlineData("/api/entries/abc", 404, "is not part of the API")]
    [InlineData("/api/entries?limit=0", 400, "from 1 to 100")]
    [InlineData("/api/entries?limit=abc", 400, "from 1 to 100")]
    public async Task Api_BadPathsAndQueries_AreClearErrors(string path, int status, string detail)
    {
        using var guestbook = new Guestbook(topology);
        await SignedAsync(guestbook, "someone", "so the table exists");

        using var response = await guestbook.SendAsync(HttpMethod.Get, path);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Contains(detail, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Api_ForgedGtidCookie_IsIgnored()
    {
        using var guestbook = new Guestbook(topology);
        await SignedAsync(guestbook, "someone", "entry");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{topology.PublicAddress}/api/entries");
        request.Headers.Host = "www.foobar.com";
        request.Headers.Add("Cookie", "foobar_gtid=0-1-1');DROP TABLE entries;--");

        using var response = await topology.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>Signs once the schema is there (the orchestrator migrates right after start).</summary>
    private static async Task<HttpResponseMessage> SignedAsync(Guestbook guestbook, string name, string message) =>
        await Poll.UntilAsync(() => guestbook.SignAsync(name, message), r => r.StatusCode == HttpStatusCode.Created, TimeSpan.FromSeconds(60), "a first entry signed");
}
