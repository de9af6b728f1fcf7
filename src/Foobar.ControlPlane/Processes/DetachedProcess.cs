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
    public static Process Start(IReadOnlyList<string> command, string logFile)
    {
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
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
