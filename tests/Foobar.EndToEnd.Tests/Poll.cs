using System.Diagnostics;

namespace Foobar.EndToEnd.Tests;

/// <summary>Waits for a condition with a deadline: the only way these tests wait.</summary>
internal static class Poll
{
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan deadline, string what)
    {
        var clock = Stopwatch.StartNew();
        T last;
        do
        {
            last = await probe();
            if (done(last))
            {
                return last;
            }
            await Task.Delay(50);
        }
        while (clock.Elapsed < deadline);
        throw new TimeoutException($"{what} did not happen within {deadline.TotalSeconds:0} s; last: {last}");
    }
}
