using Foobar.Http.Backends;
using Foobar.Http.LoadBalancing;

namespace Foobar.Http.Tests.LoadBalancing;

public class RoundRobinPolicyTests
{
    [Fact]
    public void Choose_CyclesThroughEveryCandidate()
    {
        var policy = new RoundRobinPolicy();

        Assert.Equal([0, 1, 2, 0, 1, 2], Enumerable.Range(0, 6).Select(_ => policy.Choose(3)));
    }

    [Fact]
    public void Pick_SkipsDownAndAlreadyTriedBackends()
    {
        var backends = new[] { "a", "b", "c" }.Select(n => new Backend(n, new Uri($"http://{n}/"))).ToArray();
        var pool = new BackendPool(backends, new RoundRobinPolicy());
        backends[1].SetState(BackendState.Down, "test");

        Assert.Equal(["a", "c", "a", "c"], Enumerable.Range(0, 4).Select(_ => pool.Pick([])!.Name));
        Assert.Equal("c", pool.Pick([backends[0]])!.Name);
        Assert.Null(pool.Pick([backends[0], backends[2]]));
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
}
