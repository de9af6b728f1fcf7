using System.Net;

namespace Foobar.EndToEnd.Tests;

/// <summary><c>foobar reload</c> on the running default topology: a web server added and removed again, under traffic.</summary>
public partial class SiteTests
{
    [Fact]
    public async Task Reload_WebServerAddedThenRemoved_UnderTraffic_NoRequestFails()
    {
        await WaitAllReadyAsync();
        var original = await File.ReadAllTextAsync(topology.TopologyFile);
        var withWeb3 = Path.Combine(topology.Directory, "with-web3.yaml");
        await File.WriteAllTextAsync(withWeb3, original.TrimEnd() + "\n  web3: { roles: [web] }\n");
        using var traffic = new CancellationTokenSource();
        var failures = new List<string>();
        var seen = new HashSet<string>();
        var load = Task.Run(async () =>
        {
            while (!traffic.IsCancellationRequested)
            {
                try
                {
                    using var response = await topology.GetAsync("/assets/foobar.css");
                    lock (seen)
                    {
                        if (response.StatusCode != HttpStatusCode.OK)
                        {
                            failures.Add($"{(int)response.StatusCode}");
                        }
                        seen.Add(string.Join(",", response.Headers.GetValues("X-Served-By")).Split(", ")[1]);
                    }
                }
                catch (HttpRequestException e)
                {
                    lock (seen)
                    {
                        failures.Add(e.Message);
                    }
                }
            }
        });
        try
        {
            var added = await topology.CliAsync("reload", "-t", withWeb3);
            Assert.True(added.ExitCode == 0, added.Output);
            Assert.Contains("added web3; lb1, lb2, web1, web2 follow it", added.Output);
            await Poll.UntilAsync(() => Task.FromResult(Served("web3")), s => s, TimeSpan.FromSeconds(20), "web3 in rotation");

            var removed = await topology.CliAsync("reload", "-t", topology.TopologyFile);
            Assert.True(removed.ExitCode == 0, removed.Output);
            Assert.Contains("removed web3", removed.Output);
            var status = await topology.StatusAsync();
            Assert.DoesNotContain(status.Servers, s => s.Name == "web3");
            Assert.Contains(status.Events, e => e.Server == "web3" && e.Message.Contains("stopped", StringComparison.Ordinal));
        }
        finally
        {
            await traffic.CancelAsync();
            await load;
        }
        lock (seen)
        {
            Assert.Empty(failures);
            Assert.Contains("web3", seen);
        }

        bool Served(string server)
        {
            lock (seen)
            {
                return seen.Contains(server);
            }
        }
    }

    [Fact]
    public async Task Reload_MoreThanServersChanged_IsRefusedAndNothingChanges()
    {
        var original = await File.ReadAllTextAsync(topology.TopologyFile);
        var withLb3 = Path.Combine(topology.Directory, "with-lb3.yaml");
        await File.WriteAllTextAsync(withLb3, original.TrimEnd() + "\n  lb3: { roles: [lb] }\n");
        var broken = Path.Combine(topology.Directory, "broken.yaml");
        await File.WriteAllTextAsync(broken, original.Replace("roles: [web]", "roles: [webb]", StringComparison.Ordinal));

        var lb3 = await topology.CliAsync("reload", "-t", withLb3);
        var typo = await topology.CliAsync("reload", "-t", broken);
        var same = await topology.CliAsync("reload", "-t", topology.TopologyFile);

        Assert.Equal(1, lb3.ExitCode);
        Assert.Contains("servers.lb3: a server with the roles lb cannot be added by a reload", lb3.Output);
        Assert.Contains("nothing changed", lb3.Output);
        Assert.Equal(2, typo.ExitCode);
        Assert.Contains("webb", typo.Output);
        Assert.Equal(0, same.ExitCode);
        Assert.Contains("nothing to change", same.Output);
        Assert.DoesNotContain((await topology.StatusAsync()).Servers, s => s.Name == "lb3");
    }

    [Fact]
    public async Task Reload_CacheControlChanged_TheWebServersFollowIt()
    {
        await WaitAllReadyAsync();
        var original = await File.ReadAllTextAsync(topology.TopologyFile);
        Assert.Contains("/assets/: \"public, max-age=3600\"", original);
        var shorter = Path.Combine(topology.Directory, "shorter-cache.yaml");
        await File.WriteAllTextAsync(shorter, original.Replace("max-age=3600", "max-age=60", StringComparison.Ordinal));

        try
        {
            var changed = await topology.CliAsync("reload", "-t", shorter);

            Assert.True(changed.ExitCode == 0, changed.Output);
            Assert.Contains("changed the web servers' root, prefixes or Cache-Control rules", changed.Output);
            for (var i = 0; i < 4; i++)
            {
                // Both web servers, in turn.
                using var response = await topology.GetAsync("/assets/foobar.css");
                Assert.Equal("public, max-age=60", response.Headers.CacheControl?.ToString());
            }
        }
        finally
        {
            var back = await topology.CliAsync("reload", "-t", topology.TopologyFile);
            Assert.True(back.ExitCode == 0, back.Output);
        }
    }
}
