using System.Net;
using Foobar.Testing;

namespace Foobar.EndToEnd.Tests;

/// <summary>The default topology with <c>lb.mode: active-active</c>.</summary>
public sealed class ActiveActiveTopology : RunningTopology
{
    public ActiveActiveTopology()
    {
        var yaml = File.ReadAllText(TopologyFile);
        File.WriteAllText(TopologyFile, yaml.Replace("mode: active-passive", "mode: active-active", StringComparison.Ordinal));
    }

}

/// <summary>Both load balancers serve, each on its own address, and dns1 hands out the ones that are up.</summary>
public class ActiveActiveTests(ActiveActiveTopology topology) : IClassFixture<ActiveActiveTopology>
{
    private async Task<IReadOnlyList<IPAddress>> SiteAddressesAsync() => (await DnsQueries.AskAsync(topology.Dns, "www.foobar.com")).Addresses;

    [Fact]
    public async Task BothLoadBalancersServe_DnsAnswersBoth_AndDropsOneThatDies_UntilItIsBack()
    {
        var lb1 = topology.AddressOf("lb1");
        var lb2 = topology.AddressOf("lb2");
        var status = await Poll.UntilAsync(topology.StatusAsync, r => r.Ready, TimeSpan.FromSeconds(30), "every server ready");
        Assert.Equal("lb1, lb2", status.Public.HeldBy);
        Assert.Equal([lb1, lb2], (await SiteAddressesAsync()).OrderBy(a => a.ToString()));
        foreach (var (address, name) in new[] { (lb1, "lb1"), (lb2, "lb2") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{address}/");
            request.Headers.Host = "www.foobar.com";
            using var response = await topology.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith(name + ",", string.Join(",", response.Headers.GetValues("X-Served-By")));
        }

        Assert.Equal(0, (await topology.CliAsync("kill", "lb1")).ExitCode);
        try
        {
            var alone = await Poll.UntilAsync(SiteAddressesAsync, a => a.Count == 1, TimeSpan.FromSeconds(10), "dns answering lb2 alone");
            Assert.Equal([lb2], alone);
        }
        finally
        {
            Assert.Equal(0, (await topology.CliAsync("start", "lb1")).ExitCode);
        }
        await Poll.UntilAsync(SiteAddressesAsync, a => a.Count == 2, TimeSpan.FromSeconds(10), "dns answering both again");
    }

    [Fact]
    public async Task Dns_AnswersEachServersName_AndRefusesOtherDomains()
    {
        var web1 = await DnsQueries.AskAsync(topology.Dns, "web1.foobar.com");
        var other = await DnsQueries.AskAsync(topology.Dns, "example.org");
        var missing = await DnsQueries.AskAsync(topology.Dns, "nothing-here.foobar.com");

        Assert.Single(web1.Addresses);
        Assert.EndsWith(".5", web1.Addresses[0].ToString());
        Assert.Equal(5, other.Rcode);
        Assert.Equal(3, missing.Rcode);
    }
}
