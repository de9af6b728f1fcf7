using Foobar.Testing;

namespace Foobar.Http.Tests.Leaving;

[CollectionDefinition(nameof(ServerLeavingTests), DisableParallelization = true)]
public sealed class ServerLeavingCollection;

/// <summary>
/// The lame duck's wait, on a fake clock: the process-wide state is shared with every front in
/// this assembly, so these run alone.
/// </summary>
[Collection(nameof(ServerLeavingTests))]
public sealed class ServerLeavingTests : IDisposable
{
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Longest = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);

    public void Dispose() => ServerLeaving.Reset();

    /// <summary>Moves the fake clock a step at a time (noting a request at each when asked) until the wait ends.</summary>
    private static async Task<TimeSpan> RunAsync(FakeTimeProvider time, bool requestsKeepComing)
    {
        ServerLeaving.Begin(time);
        var waiting = ServerLeaving.WaitUntilOutAsync(Quiet, Longest, time);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!waiting.IsCompleted && DateTime.UtcNow < deadline)
        {
            if (requestsKeepComing)
            {
                ServerLeaving.NoteRequest(time);
            }
            time.Advance(Step);
            await Task.Delay(2);
        }
        return await waiting;
    }

    [Fact]
    public async Task NoRequestAfterLeavingBegan_EndsAfterTheQuietTime()
    {
        var waited = await RunAsync(new FakeTimeProvider(), requestsKeepComing: false);

        Assert.True(ServerLeaving.IsLeaving);
        Assert.InRange(waited, Quiet, Longest - Step);
    }

    [Fact]
    public async Task RequestsThatKeepComing_HoldItUntilTheLongest()
    {
        var waited = await RunAsync(new FakeTimeProvider(), requestsKeepComing: true);

        Assert.True(waited >= Longest, $"ended after {waited.TotalSeconds} s with requests still coming");
    }
}
