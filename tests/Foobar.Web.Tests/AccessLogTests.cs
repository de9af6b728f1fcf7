using System.Text.Json;
using Foobar.Http.AccessLogs;
using Foobar.Testing;

namespace Foobar.Web.Tests;

public sealed class AccessLogTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("foobar-web-log-").FullName;
    private string LogFile => Path.Combine(_dir, "logs", "web1.access.log");

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "site"));
        return File.WriteAllTextAsync(Path.Combine(_dir, "site", "hello.txt"), "hello");
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task EveryRequestButHealthChecks_IsLogged_WithStatusLengthTheAppServerThatAnsweredAndTheRealClient(bool front)
    {
        await using (var site = await WebSite.StartAsync(Path.Combine(_dir, "site"), new AccessLog(LogFile, AccessLogFormat.Json), front: front))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/hello.txt", UriKind.Relative));
            request.Headers.UserAgent.ParseAdd("test-agent/1.0");
            request.Headers.Add("X-Forwarded-For", "203.0.113.9");
            (await site.Client.SendAsync(request)).Dispose();
            (await site.Client.GetAsync(new Uri("/api/entries?page=2", UriKind.Relative))).Dispose();
            // With a front, it answered both itself (the file too): the connection is still its own.
            Assert.Equal(front ? 1 : null, site.Front?.Connections);
            (await site.Client.GetAsync(new Uri("/healthz", UriKind.Relative))).Dispose();
            await Eventually.TrueAsync(() => File.Exists(LogFile) && File.ReadAllLines(LogFile).Length == 2, "two lines in the access log");
        }

        var lines = (await File.ReadAllLinesAsync(LogFile)).Select(line => JsonDocument.Parse(line).RootElement).ToArray();
        Assert.Equal("/hello.txt", lines[0].GetProperty("target").GetString());
        Assert.Equal(200, lines[0].GetProperty("status").GetInt32());
        Assert.Equal(5, lines[0].GetProperty("body_bytes").GetInt64());
        Assert.Equal("test-agent/1.0", lines[0].GetProperty("user_agent").GetString());
        Assert.Equal(JsonValueKind.Null, lines[0].GetProperty("upstream").ValueKind);
        Assert.Equal("203.0.113.9", lines[0].GetProperty("forwarded_for").GetString());
        Assert.Equal("/api/entries?page=2", lines[1].GetProperty("target").GetString());
        Assert.Equal("app1", lines[1].GetProperty("upstream").GetString());
        Assert.Matches("^[0-9a-f]{32}$", lines[1].GetProperty("request_id").GetString());
    }
}
