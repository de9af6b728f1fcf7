using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Foobar.Server.Admin;

namespace Foobar.Server.Tests.Admin;

public sealed class ProcessMetricsTests
{
    private static Dictionary<string, double> Samples(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(line => !line.StartsWith('#'))
            .Select(line => line.Split(' '))
            .ToDictionary(parts => parts[0], parts => double.Parse(parts[1], CultureInfo.InvariantCulture));

    [Fact]
    public void EveryFamily_HasHelpAndType_AndOneWellFormedSampleLine()
    {
        var text = ProcessMetrics.Render(new StringBuilder()).ToString();

        var types = Regex.Matches(text, "^# TYPE ([a-z_]+) (counter|gauge)$", RegexOptions.Multiline)
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        Assert.Equal("counter", types["process_cpu_seconds_total"]);
        Assert.Equal("counter", types["dotnet_gc_collections_total"]);
        Assert.Equal("gauge", types["process_resident_memory_bytes"]);
        Assert.Equal(types.Count, Regex.Matches(text, "^# HELP ", RegexOptions.Multiline).Count);
        // Prometheus' conventions: a counter's name ends in _total, and only a counter's.
        Assert.All(types, t => Assert.Equal(t.Value == "counter", t.Key.EndsWith("_total", StringComparison.Ordinal)));
        Assert.All(text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(line => !line.StartsWith('#')),
            line => Assert.Matches("^[a-z_]+(\\{generation=\"[0-9]\"\\})? [0-9.eE+-]+$", line));
    }

    [Fact]
    public void Counters_FollowTheProcess()
    {
        var before = Samples(ProcessMetrics.Render(new StringBuilder()).ToString());
        var junk = new List<byte[]>();
        for (var i = 0; i < 1000; i++)
        {
            junk.Add(new byte[1000]);
        }
        GC.Collect(0);
        var after = Samples(ProcessMetrics.Render(new StringBuilder()).ToString());

        Assert.True(after["dotnet_gc_allocated_bytes_total"] - before["dotnet_gc_allocated_bytes_total"] >= 1_000_000, "allocations not counted");
        // The runtime may collect an older generation than asked; each collection counts once, under the oldest it collected.
        static double Collections(Dictionary<string, double> samples) => samples.Where(s => s.Key.StartsWith("dotnet_gc_collections_total{", StringComparison.Ordinal)).Sum(s => s.Value);
        Assert.True(Collections(after) >= Collections(before) + 1, "a collection not counted");
        Assert.True(after["process_cpu_seconds_total"] > 0);
        Assert.True(after["process_open_fds"] > 0);
        Assert.True(after["process_resident_memory_bytes"] > 1_000_000);
        var started = DateTimeOffset.FromUnixTimeMilliseconds((long)(after["process_start_time_seconds"] * 1000));
        Assert.InRange(started, DateTimeOffset.UtcNow.AddHours(-2), DateTimeOffset.UtcNow);
        GC.KeepAlive(junk);
    }
}
