using System.Globalization;

namespace Foobar.Server.Processes;

/// <summary>
/// A process id together with the process's start time, so a pid that the kernel has reused for
/// an unrelated process is never mistaken for one of ours (and never signalled).
/// </summary>
/// <param name="Pid">Process id.</param>
/// <param name="StartTicks">Field 22 of <c>/proc/PID/stat</c>: start time in clock ticks since boot.</param>
public sealed record ProcessIdentity(int Pid, long StartTicks)
{
    /// <summary>The identity of the running process <paramref name="pid"/>, or null if it is gone.</summary>
    public static ProcessIdentity? Of(int pid) => ReadStat(pid) is { } stat && stat.State != 'Z' ? new ProcessIdentity(pid, stat.StartTicks) : null;

    /// <summary>Whether this very process still runs (not exited, not a zombie, pid not reused).</summary>
    public bool IsAlive => ReadStat(Pid) is { } stat && stat.State != 'Z' && stat.StartTicks == StartTicks;

    /// <summary><c>PID STARTTICKS</c>, the pid file format.</summary>
    public override string ToString() => $"{Pid} {StartTicks}";

    /// <summary>Parses <see cref="ToString"/>'s format; null when malformed.</summary>
    public static ProcessIdentity? Parse(string text)
    {
        var parts = text.Trim().Split(' ');
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            ? new ProcessIdentity(pid, ticks)
            : null;
    }

    private static (char State, long StartTicks)? ReadStat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // The command name (field 2) is in parentheses and may contain spaces; count from the last ')'.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return fields.Length > 19 && long.TryParse(fields[19], CultureInfo.InvariantCulture, out var start)
            ? (fields[0][0], start)
            : null;
    }
}
