using Foobar.ControlPlane.Supervision;

namespace Foobar.ControlPlane.Tests.Supervision;

public class RestartPolicyTests
{
    private readonly RestartPolicy _policy = new();

    [Fact]
    public void DelayFor_CrashesInARow_DoublesUpToTheCap()
    {
        Assert.Equal([1, 2, 4, 8, 16, 30, 30], Enumerable.Range(1, 7).Select(n => _policy.DelayFor(n).TotalSeconds));
    }

    [Fact]
    public void DelayFor_ManyCrashes_DoesNotOverflow()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), _policy.DelayFor(10_000));
    }

    [Fact]
    public void NextCount_ShortRun_ContinuesTheRow()
    {
        Assert.Equal(4, _policy.NextCount(3, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void NextCount_StableRun_StartsANewRow()
    {
        Assert.Equal(1, _policy.NextCount(6, TimeSpan.FromSeconds(30)));
    }
}
