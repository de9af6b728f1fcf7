namespace Foobar.EndToEnd.Tests;

internal static class ProcessState
{
    /// <summary>Whether <paramref name="pid"/> runs (a zombie awaiting its reaper does not).</summary>
    public static bool IsRunning(int pid)
    {
        try
        {
            var state = File.ReadAllLines($"/proc/{pid}/status").First(l => l.StartsWith("State:", StringComparison.Ordinal));
            return !state.Contains('Z', StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
