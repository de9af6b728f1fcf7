using System.Text.Json;
using Foobar.Http.AccessLogs;
using Foobar.Testing;

namespace Foobar.Http.Tests.AccessLogs;

public sealed class AccessLogTests : IDisposable
{
    private static readonly AccessLogEntry Sample = new(
        new DateTimeOffset(2026, 11, 22, 16, 55, 57, TimeSpan.Zero), "10.0.0.7", "GET", "/api/entries?page=2", "HTTP/1.1", 200, 1024,
        "https://www.foobar.com/", "curl/8.5", TimeSpan.FromMilliseconds(3.2), "app1", "6ab9d734", "203.0.113.9");

    private readonly string _dir = Directory.CreateTempSubdirectory("foobar-accesslog-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Combined_IsNginxsCombined_ThenRequestTimeUpstreamAndRequestId()
    {
        Assert.Equal(
            "10.0.0.7 - - [22/Nov/2026:16:55:57 +0000] \"GET /api/entries?page=2 HTTP/1.1\" 200 1024 \"https://www.foobar.com/\" \"curl/8.5\" 0.003 \"app1\" \"6ab9d734\" \"203.0.113.9\"",
            AccessLogLine.Format(Sample, AccessLogFormat.Combined));
    }

    [Fact]
    public void Combined_MissingValues_AreDashes()
    {
        var line = AccessLogLine.Format(Sample with { BodyBytes = null, Referer = null, UserAgent = null, Upstream = null, RequestId = null, ForwardedFor = null }, AccessLogFormat.Combined);

        Assert.EndsWith("\" 200 - \"-\" \"-\" 0.003 \"-\" \"-\" \"-\"", line);
    }

    [Theory]
    [InlineData("evil\" 500 0 \"-\" \"forged", "evil\\x22 500 0 \\x22-\\x22 \\x22forged")]
    [InlineData("back\\slash", "back\\x5Cslash")]
    [InlineData("tab\there", "tab\\x09here")]
    [InlineData("ünïcode", "\\xC3\\xBCn\\xC3\\xAFcode")]
    public void Combined_WhatAClientSent_CannotForgeAField(string userAgent, string written)
    {
        var line = AccessLogLine.Format(Sample with { UserAgent = userAgent }, AccessLogFormat.Combined);

        Assert.Contains($"\"{written}\"", line);
        Assert.Equal(12, line.Count(c => c == '"'));
    }

    [Fact]
    public void Json_HasEveryField_AndEscapesWhatTheClientSent()
    {
        var line = AccessLogLine.Format(Sample with { UserAgent = "quote\" and\nnewline" }, AccessLogFormat.Json);

        Assert.DoesNotContain('\n', line);
        var json = JsonDocument.Parse(line).RootElement;
        Assert.Equal("10.0.0.7", json.GetProperty("client").GetString());
        Assert.Equal("/api/entries?page=2", json.GetProperty("target").GetString());
        Assert.Equal(200, json.GetProperty("status").GetInt32());
        Assert.Equal(1024, json.GetProperty("body_bytes").GetInt64());
        Assert.Equal(0.0032, json.GetProperty("request_time").GetDouble(), 6);
        Assert.Equal("app1", json.GetProperty("upstream").GetString());
        Assert.Equal("203.0.113.9", json.GetProperty("forwarded_for").GetString());
        Assert.Equal("quote\" and\nnewline", json.GetProperty("user_agent").GetString());
        Assert.Equal(Sample.Time, json.GetProperty("time").GetDateTimeOffset());
    }

    [Fact]
    public async Task Writer_AppendsEveryQueuedEntry_AndDrainsWhenStopped()
    {
        var path = Path.Combine(_dir, "logs", "web1.access.log");
        var log = new AccessLog(path, AccessLogFormat.Combined);
        using var stop = new CancellationTokenSource();
        var running = log.RunAsync(stop.Token);

        log.Add(Sample);
        await Eventually.TrueAsync(() => File.Exists(path) && File.ReadAllLines(path).Length == 1, "first line written");
        log.Add(Sample with { Status = 404 });
        await stop.CancelAsync();
        await running;

        var lines = await File.ReadAllLinesAsync(path);
        Assert.Equal(2, lines.Length);
        Assert.Contains("\" 404 ", lines[1]);
    }

    [Fact]
    public async Task Writer_WritesWhatArrivesAfterABatch_OneFlushIntervalLater_InOneBatch()
    {
        var path = Path.Combine(_dir, "web1.access.log");
        var time = new FakeTimeProvider();
        var log = new AccessLog(path, AccessLogFormat.Combined, time: time);
        using var stop = new CancellationTokenSource();
        var running = log.RunAsync(stop.Token);
        log.Add(Sample);
        await Eventually.TrueAsync(() => File.Exists(path) && File.ReadAllLines(path).Length == 1, "first line written at once");

        log.Add(Sample with { Status = 404 });
        log.Add(Sample with { Status = 500 });
        // The writer waits out its interval on the fake clock: nothing can be written before it moves.
        // Its wait may begin a moment after the first line is on disk: move the clock only once it has.
        await Eventually.TrueAsync(() => time.TimersSet > 0, "the writer waiting for its interval");
        var beforeTheInterval = File.ReadAllLines(path).Length;
        time.Advance(AccessLog.FlushInterval);

        await Eventually.TrueAsync(() => File.ReadAllLines(path).Length == 3, "both later lines written after the interval");
        Assert.Equal(1, beforeTheInterval);
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task FileMovedAway_ANewOneIsStartedAtThePath()
    {
        var path = Path.Combine(_dir, "web1.access.log");
        var log = new AccessLog(path, AccessLogFormat.Combined);
        using var stop = new CancellationTokenSource();
        var running = log.RunAsync(stop.Token);
        log.Add(Sample);
        await Eventually.TrueAsync(() => File.Exists(path) && File.ReadAllLines(path).Length == 1, "first line written");

        File.Move(path, path + ".1");
        await Eventually.TrueAsync(() =>
        {
            // Requests keep coming; within a second the log notices and starts a new file.
            log.Add(Sample with { Status = 503 });
            return File.Exists(path) && File.ReadAllLines(path).Length > 0;
        }, "a new file at the path");
        await stop.CancelAsync();
        await running;

        var moved = await File.ReadAllLinesAsync(path + ".1");
        Assert.Contains("\" 200 ", moved[0]);
        Assert.All(moved.Skip(1).Concat(await File.ReadAllLinesAsync(path)), line => Assert.Contains("\" 503 ", line));
    }

    [Fact]
    public void FullQueue_DropsAndCounts_NeverWaits()
    {
        var log = new AccessLog(Path.Combine(_dir, "never-written.log"), AccessLogFormat.Combined, capacity: 2);

        for (var i = 0; i < 5; i++)
        {
            log.Add(Sample);
        }

        Assert.Equal(3, log.Dropped);
    }
}
