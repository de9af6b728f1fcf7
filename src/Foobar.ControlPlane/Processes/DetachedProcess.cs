using System.Diagnostics;

namespace Foobar.ControlPlane.Processes;

/// <summary>
/// Starts a command in a session and process group of its own (setsid), with stdin from
/// /dev/null and stdout/stderr appended to a log file, so it neither shares the terminal's
/// Ctrl+C nor dies of a closed pipe when its parent goes away, and the whole group can be
/// signalled at once. The pid is the command's own: sh and setsid exec in place.
/// </summary>
public static class DetachedProcess
{
    /// <summary>Starts <paramref name="command"/>; the caller is its parent and reaps it.</summary>
    /// <param name="command">The program and its arguments.</param>
    /// <param name="logFile">Where its output goes (appended).</param>
    /// <param name="environment">Variables added to this process's environment for it.</param>
    public static Process Start(IReadOnlyList<string> command, string logFile, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec </dev/null >>\"$0\" 2>&1; exec setsid \"$@\"");
        start.ArgumentList.Add(logFile);
        foreach (var argument in command)
        {
            start.ArgumentList.Add(argument);
        }
        return Process.Start(start) ?? throw new InvalidOperationException($"could not start {command[0]}");
    }
}
