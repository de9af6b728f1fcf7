using System.Collections.Concurrent;
using System.Net;

namespace Foobar.EndToEnd.Tests;

/// <summary>The primary killed while the app takes writes: nothing acknowledged is lost.</summary>
public sealed class DbFailoverTests : IAsyncLifetime
{
    private readonly RunningTopology _topology = new();

    public Task InitializeAsync() => _topology.InitializeAsync();

    public Task DisposeAsync() => _topology.DisposeAsync();

    [Fact]
    public async Task KillThePrimaryUnderContinuousWrites_EveryAcknowledgedWriteIsOnTheNewPrimary()
    {
        using var guestbook = new Guestbook(_topology);
        await Poll.UntilAsync(() => guestbook.SignAsync("first", "entry"), r => r.StatusCode == HttpStatusCode.Created, TimeSpan.FromSeconds(60), "a first entry");
        await Poll.UntilAsync(_topology.DbStatusAsync, s => s.Servers.Single(x => x.Name == "db2").Replication == "IO Yes, SQL Yes"
            && s.Servers.Single(x => x.Name == "db1").SemiSync?.StartsWith("on,", StringComparison.Ordinal) == true, TimeSpan.FromSeconds(60), "replication up with semi-sync");
        var acknowledged = new ConcurrentBag<(long Id, string Db)>();
        var refused = 0;
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            using var writer = new Guestbook(_topology);
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                using var response = await writer.SignAsync($"writer {w}", $"write {i}");
                if (response.StatusCode == HttpStatusCode.Created)
                {
                    acknowledged.Add((await Guestbook.IdOfAsync(response), Guestbook.LastHop(response)));
                }
                else
                {
                    Interlocked.Increment(ref refused);
                }
            }
        })).ToList();
        await Poll.UntilAsync(() => Task.FromResult(acknowledged.Count), n => n >= 100, TimeSpan.FromSeconds(30), "100 writes acknowledged by db1");

        Assert.Equal(0, (await _topology.CliAsync("kill", "db1")).ExitCode);
        await Poll.UntilAsync(() => Task.FromResult(acknowledged.Count(a => a.Db == "db2")), n => n >= 50, TimeSpan.FromSeconds(30), "50 writes acknowledged by db2");
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        // Every acknowledged entry is readable now that db2 is the only server.
        var missing = new List<long>();
        foreach (var (id, _) in acknowledged)
        {
            using var read = await guestbook.SendAsync(HttpMethod.Get, $"/api/entries/{id}");
            if (read.StatusCode != HttpStatusCode.OK)
            {
                missing.Add(id);
            }
        }
        Assert.True(missing.Count == 0, $"{missing.Count} of {acknowledged.Count} acknowledged writes lost: {string.Join(", ", missing.Take(20))}");
        Assert.Contains(acknowledged, a => a.Db == "db1");
        Assert.Equal("db2", (await _topology.DbStatusAsync()).Primary);
    }
}
