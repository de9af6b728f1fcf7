using System.Diagnostics;
using System.Globalization;

namespace Foobar.Db.Processes;

/// <summary>
/// A mariadbd left running on this data directory by an earlier run of the server (one killed
/// where the parent-death signal is unavailable). It is stopped before a new one starts: two
/// would fight over the files, and the old one could still be taking writes.
/// </summary>
internal static class StaleServer
{
    /// <summary>SIGKILLs the mariadbd named by <paramref name="pidFile"/> if it serves <paramref name="dataDirectory"/>.</summary>
    /// <returns>The pid stopped, or null when there was none.</returns>
    public static async Task<int?> StopAsync(string pidFile, string dataDirectory, CancellationToken cancellationToken)
    {
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            return null;
        }
        if (!Serves(pid, dataDirectory))
        {
            return null;
        }
        using (var process = Process.GetProcessById(pid))
        {
            process.Kill();
        }
        var deadline = Stopwatch.StartNew();
        while (Serves(pid, dataDirectory) && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
        return pid;
    }

    private static bool Serves(int pid, string dataDirectory)
    {
        try
        {
            var arguments = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // A zombie has exited already; its files are closed.
            var state = stat[(stat.LastIndexOf(')') + 2)..].FirstOrDefault();
            return state != 'Z' && arguments.Any(a => a.EndsWith("mariadbd", StringComparison.Ordinal))
                && arguments.Contains($"--datadir={dataDirectory}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
