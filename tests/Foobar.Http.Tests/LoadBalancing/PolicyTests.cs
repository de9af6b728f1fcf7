using System.Net;
using Foobar.Http.Backends;
using Foobar.Http.LoadBalancing;

namespace Foobar.Http.Tests.LoadBalancing;

public class PolicyTests
{
    private static readonly BalanceKey AnyKey = new(IPAddress.Loopback, "/");

    [Fact]
    public void RoundRobin_EqualWeights_CyclesThroughEveryCandidate()
    {
        var backends = Backends.Named("a", "b", "c");
        var policy = new RoundRobinPolicy();

        Assert.Equal("abcabc", string.Concat(Enumerable.Range(0, 6).Select(_ => policy.Choose(backends, AnyKey).Name)));
    }

    [Fact]
    public void RoundRobin_Weights_AreSharesSpreadSmoothly()
    {
        Backend[] backends = [Backends.Weighted("a", 3), Backends.Weighted("b", 1)];
        var policy = new RoundRobinPolicy();

        // Smooth: b is not held back to the end of each cycle of four.
        Assert.Equal("aaba" + "aaba", string.Concat(Enumerable.Range(0, 8).Select(_ => policy.Choose(backends, AnyKey).Name)));
    }

    [Fact]
    public void LeastConnections_PicksTheLeastBusyForItsWeight_TiesInTurn()
    {
        var backends = Backends.Named("a", "b", "c");
        var policy = new LeastConnectionsPolicy();
        Backends.Busy(backends[0], 3);
        Backends.Busy(backends[2], 1);

        Assert.All(Enumerable.Range(0, 5), _ => Assert.Equal("b", policy.Choose(backends, AnyKey).Name));

        Backends.Busy(backends[1], 1);
        Assert.Equal(["b", "c"], Enumerable.Range(0, 4).Select(_ => policy.Choose(backends, AnyKey).Name).Distinct().Order());

        Backend heavy = Backends.Weighted("heavy", 4);
        Backends.Busy(heavy, 3);
        Assert.Equal("heavy", policy.Choose([backends[2], heavy], AnyKey).Name); // 3/4 < 1/1
    }

    [Fact]
    public void TwoRandomChoices_NeverPicksTheBusierOfTwo_AndSpreadsIdleOnes()
    {
        var pair = Backends.Named("idle", "busy");
        Backends.Busy(pair[1], 10);
        var policy = new TwoRandomChoicesPolicy(new Random(42));

        Assert.All(Enumerable.Range(0, 200), _ => Assert.Equal("idle", policy.Choose(pair, AnyKey).Name));

        var idle = Backends.Named("a", "b", "c", "d");
        var counts = Enumerable.Range(0, 4000).Select(_ => policy.Choose(idle, AnyKey).Name).CountBy(n => n).ToDictionary();
        Assert.All(counts.Values, c => Assert.InRange(c, 800, 1200));
    }

    [Fact]
    public void TwoRandomChoices_Weights_AreDrawnInProportion()
    {
        Backend[] backends = [Backends.Weighted("a", 1), Backends.Weighted("b", 1), Backends.Weighted("big", 6)];
        var policy = new TwoRandomChoicesPolicy(new Random(7));

        var big = Enumerable.Range(0, 8000).Count(_ => policy.Choose(backends, AnyKey).Name == "big");

        // Drawn in one of the two draws with probability 6/8 + (2/8)(6/7), taken then (ties go to the first draw: half).
        Assert.InRange(big, 4000, 7500);
    }

    [Fact]
    public void SourceHash_SameClientSameServer_AndOnlyTheLostServersClientsMove()
    {
        var backends = Backends.Named("web1", "web2", "web3");
        var policy = new HashPolicy(HashPolicy.By.Source);
        var clients = Enumerable.Range(1, 300).Select(i => new BalanceKey(IPAddress.Parse($"10.0.{i / 250}.{i % 250}"), "/")).ToList();

        var before = clients.Select(c => policy.Choose(backends, c).Name).ToList();
        var again = clients.Select(c => policy.Choose(backends, c).Name).ToList();
        var withoutWeb2 = clients.Select(c => policy.Choose([backends[0], backends[2]], c).Name).ToList();

        Assert.Equal(before, again);
        Assert.All(before.CountBy(n => n), c => Assert.InRange(c.Value, 60, 140));
        for (var i = 0; i < clients.Count; i++)
        {
            if (before[i] != "web2")
            {
                Assert.Equal(before[i], withoutWeb2[i]);
            }
        }
    }

    [Fact]
    public void UriHash_SamePathSameServer_WhateverTheClient()
    {
        var backends = Backends.Named("web1", "web2", "web3");
        var policy = new HashPolicy(HashPolicy.By.Uri);

        var servers = Enumerable.Range(1, 50).Select(i => policy.Choose(backends, new BalanceKey(IPAddress.Parse($"10.0.0.{i}"), "/images/logo.png")).Name);

        Assert.Single(servers.Distinct());
        Assert.True(Enumerable.Range(0, 100).Select(i => policy.Choose(backends, new BalanceKey(null, $"/page/{i}")).Name).Distinct().Count() == 3);
    }

    [Fact]
    public void Hash_Weights_AreShares()
    {
        Backend[] backends = [Backends.Weighted("small", 1), Backends.Weighted("large", 3)];
        var policy = new HashPolicy(HashPolicy.By.Uri);

        var large = Enumerable.Range(0, 4000).Count(i => policy.Choose(backends, new BalanceKey(null, $"/p/{i}")).Name == "large");

        Assert.InRange(large, 2800, 3200);
    }
}
