using Foobar.Http.Backends;
using Foobar.Http.LoadBalancing;
using Foobar.Testing;

namespace Foobar.Http.Tests.LoadBalancing;

public class SlowStartTests
{
    private static Backend Ramped(string name, FakeTimeProvider time, int weight = 1) =>
        new(name, new Uri($"http://{name}/"), weight: weight) { SlowStart = TimeSpan.FromSeconds(10), Time = time };

    [Fact]
    public void EffectiveWeight_AfterComingBackUp_GrowsToTheFullWeightOverTheSlowStart()
    {
        var time = new FakeTimeProvider();
        var backend = Ramped("a", time, weight: 2);
        Assert.Equal(32, backend.EffectiveWeight);

        backend.SetState(BackendState.Down, "test");
        backend.SetState(BackendState.Up, "back");
        Assert.Equal(1, backend.EffectiveWeight);
        time.Advance(TimeSpan.FromSeconds(2.5));
        Assert.Equal(8, backend.EffectiveWeight);
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(24, backend.EffectiveWeight);
        time.Advance(TimeSpan.FromSeconds(2.5));
        Assert.Equal(32, backend.EffectiveWeight);
    }

    [Theory]
    [InlineData("roundrobin")]
    [InlineData("leastconn")]
    [InlineData("random")]
    public void Policies_GiveAServerInItsSlowStartAShareThatGrows(string algorithm)
    {
        var time = new FakeTimeProvider();
        var steady = Ramped("steady", time);
        var back = Ramped("back", time);
        ILoadBalancingPolicy policy = algorithm switch
        {
            "roundrobin" => new RoundRobinPolicy(),
            "leastconn" => new LeastConnectionsPolicy(),
            _ => new TwoRandomChoicesPolicy(new Random(7)),
        };
        var pool = new BackendPool([steady, back], policy);
        back.SetState(BackendState.Down, "test");
        back.SetState(BackendState.Up, "back");

        double ShareOfBack()
        {
            var picks = 0;
            for (var i = 0; i < 4000; i++)
            {
                var picked = pool.Pick([])!;
                picks += picked == back ? 1 : 0;
                // leastconn and random look at the load: keep one request in flight per pick
                picked.BeginRequest();
            }
            foreach (var backend in pool.Backends)
            {
                while (backend.ActiveRequests > 0)
                {
                    backend.EndRequest();
                }
            }
            return picks / 4000.0;
        }

        time.Advance(TimeSpan.FromSeconds(2.5));
        var early = ShareOfBack();
        time.Advance(TimeSpan.FromSeconds(10));
        var after = ShareOfBack();

        // weights 4 and 16 during the ramp: a fifth of the requests; then half
        Assert.InRange(early, 0.15, 0.25);
        Assert.InRange(after, 0.45, 0.55);
    }

    [Fact]
    public void NoSlowStart_ComesBackAtFullWeight()
    {
        var backend = new Backend("a", new Uri("http://a/"));
        backend.SetState(BackendState.Down, "test");
        backend.SetState(BackendState.Up, "back");
        Assert.Equal(Backend.WeightScale, backend.EffectiveWeight);
    }
}
