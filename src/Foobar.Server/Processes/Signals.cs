using System.Runtime.InteropServices;

namespace Foobar.Server.Processes;

/// <summary>POSIX signals to whole process groups: a server and everything it started (mariadbd).</summary>
public static partial class Signals
{
    /// <summary>SIGKILL.</summary>
    public const int Kill = 9;

    /// <summary>SIGTERM.</summary>
    public const int Terminate = 15;

    /// <summary>Sends <paramref name="signal"/> to the process group led by <paramref name="process"/>, if it is still that process.</summary>
    /// <returns>Whether the signal was sent.</returns>
    public static bool SendToGroup(ProcessIdentity process, int signal) =>
        process.IsAlive && (SysKill(-process.Pid, signal) == 0 || SysKill(process.Pid, signal) == 0);

    /// <summary>Sends <paramref name="signal"/> to one process, if it is still that process.</summary>
    public static bool Send(ProcessIdentity process, int signal) => process.IsAlive && SysKill(process.Pid, signal) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int signal);
}
