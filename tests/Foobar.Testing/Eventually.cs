using System.Diagnostics;

namespace Foobar.Testing;

/// <summary>Polls a condition with a deadline: how tests wait for work on other threads, never by sleeping a fixed time.</summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string what, TimeSpan? deadline = null)
    {
        var limit = deadline ?? TimeSpan.FromSeconds(10);
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"{what} did not happen within {limit.TotalSeconds:0} s");
            }
            await Task.Delay(5);
        }
    }

    /// <summary>As <see cref="TrueAsync(Func{bool}, string, TimeSpan?)"/>, for a condition that has to ask (a database, a server).</summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? deadline = null)
    {
        var limit = deadline ?? TimeSpan.FromSeconds(10);
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"{what} did not happen within {limit.TotalSeconds:0} s");
            }
            await Task.Delay(20);
        }
    }
}
