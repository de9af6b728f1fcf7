using Foobar.Http.Backends;
using Foobar.Http.LoadBalancing;

namespace Foobar.Http.Tests.LoadBalancing;

public class BackendPoolTests
{
    [Fact]
    public void Pick_SkipsDownAndAlreadyTriedBackends()
    {
        var backends = Backends.Named("a", "b", "c");
        var pool = new BackendPool(backends, new RoundRobinPolicy());
        backends[1].SetState(BackendState.Down, "test");

        Assert.Equal(["a", "c", "a", "c"], Enumerable.Range(0, 4).Select(_ => pool.Pick([])!.Name));
        Assert.Equal("c", pool.Pick([backends[0]])!.Name);
        Assert.Null(pool.Pick([backends[0], backends[2]]));
    }

    [Fact]
    public void Replace_NewRequestsGoOnlyToTheNewBackends_AndKeptOnesKeepTheirCounts()
    {
        var backends = Backends.Named("a", "b");
        var pool = new BackendPool(backends, new RoundRobinPolicy());
        backends[1].BeginRequest();
        var changed = 0;
        pool.BackendsChanged += () => changed++;
        var c = new Backend("c", new Uri("http://c/"));

        pool.Replace([backends[1], c]);

        Assert.Equal(1, changed);
        Assert.Equal(["b", "c"], pool.Backends.Select(b => b.Name));
        Assert.Equal(["b", "b", "c", "c"], Enumerable.Range(0, 4).Select(_ => pool.Pick([])!.Name).Order());
        Assert.Equal(1, backends[1].ActiveRequests);
        Assert.Null(pool.Find("a"));
    }

    [Fact]
    public void Pick_BackupServers_OnlyWhenEveryOtherIsDownOrTried()
    {
        var main = Backends.Named("web1", "web2");
        var spare = new Backend("spare", new Uri("http://spare/"), backup: true);
        var pool = new BackendPool([.. main, spare], new RoundRobinPolicy());

        Assert.DoesNotContain("spare", Enumerable.Range(0, 10).Select(_ => pool.Pick([])!.Name));
        Assert.Equal("spare", pool.Pick(main)!.Name);

        main[0].SetState(BackendState.Down, "test");
        Assert.Equal("web2", pool.Pick([])!.Name);
        main[1].SetState(BackendState.Down, "test");
        Assert.Equal("spare", pool.Pick([])!.Name);
        main[0].SetState(BackendState.Up, "back");
        Assert.Equal("web1", pool.Pick([])!.Name);
    }

    [Fact]
    public void Pick_DrainingBackend_GetsNoNewRequestsUntilReady()
    {
        var backends = Backends.Named("web1", "web2");
        var pool = new BackendPool(backends, new RoundRobinPolicy());

        pool.Find("web1")!.Draining = true;
        Assert.All(Enumerable.Range(0, 6), _ => Assert.Equal("web2", pool.Pick([])!.Name));
        Assert.Null(pool.Pick([backends[1]]));

        pool.Find("web1")!.Draining = false;
        Assert.Contains("web1", Enumerable.Range(0, 4).Select(_ => pool.Pick([])!.Name));
        Assert.Null(pool.Find("web9"));
    }

    [Fact]
    public void Pick_ManyBackends_BeyondTheStackBuffer()
    {
        var backends = Backends.Named([.. Enumerable.Range(1, 40).Select(i => $"web{i}")]);
        var pool = new BackendPool(backends, new RoundRobinPolicy());

        Assert.Equal(40, Enumerable.Range(0, 40).Select(_ => pool.Pick([])!.Name).Distinct().Count());
    }

    [Fact]
    public void SetState_RaisesStateChangedOnlyOnChange()
    {
        var backend = new Backend("a", new Uri("http://a/"));
        var changes = new List<BackendState>();
        backend.StateChanged += (_, state, _) => changes.Add(state);

        backend.SetState(BackendState.Up, "still up");
        backend.SetState(BackendState.Down, "gone");
        backend.SetState(BackendState.Down, "still gone");

        Assert.Equal([BackendState.Down], changes);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(257)]
    public void Backend_WeightOutOfRange_IsRefused(int weight) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new Backend("a", new Uri("http://a/"), weight: weight));
}
