using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;

namespace Foobar.Db.Processes;

/// <summary>
/// Starts a program with stdin from /dev/null and its output appended to a log, under
/// <c>setpriv --pdeathsig KILL</c>: the kernel kills it when this process dies, however it dies,
/// so a killed db server never leaves a mariadbd behind that still takes writes.
/// </summary>
/// <remarks>
/// The parent-death signal fires when the <em>thread</em> that forked the child exits, not the
/// process; thread-pool threads come and go. So every child is forked from one dedicated thread
/// that lives as long as the process.
/// </remarks>
internal static class LoggedProcess
{
    private const string SetPriv = "/usr/bin/setpriv";

    private static readonly BlockingCollection<(ProcessStartInfo Start, TaskCompletionSource<Process> Started)> Requests = [];

    static LoggedProcess()
    {
        var forker = new Thread(() =>
        {
            foreach (var (start, started) in Requests.GetConsumingEnumerable())
            {
                try
                {
                    started.SetResult(Process.Start(start)!);
                }
                catch (Exception e)
                {
                    started.SetException(e);
                }
            }
        })
        { IsBackground = true, Name = "child process forker" };
        forker.Start();
    }

    /// <summary>Starts <paramref name="program"/> (a name on PATH, /usr/sbin or /usr/bin, or a path).</summary>
    /// <exception cref="MariaDbException">The program does not exist; the message names the package.</exception>
    public static Task<Process> StartAsync(string program, IEnumerable<string> arguments, string log)
    {
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$@\" </dev/null >>\"$0\" 2>&1");
        start.ArgumentList.Add(log);
        if (File.Exists(SetPriv))
        {
            start.ArgumentList.Add(SetPriv);
            start.ArgumentList.Add("--pdeathsig");
            start.ArgumentList.Add("KILL");
            start.ArgumentList.Add("--");
        }
        start.ArgumentList.Add(Resolve(program));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        var started = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        Requests.Add((start, started));
        return started.Task;
    }

    /// <summary>The program's path, or a clear error naming the package that provides it.</summary>
    private static string Resolve(string program)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(program) ? program : throw Missing(program);
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/sbin").Append("/usr/bin"))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw Missing(program);
    }

    private static MariaDbException Missing(string program) =>
        new($"{program} was not found; install Debian's mariadb-server package (apt-get install mariadb-server)", new Win32Exception(2));
}
