using System.Runtime.InteropServices;

namespace Foobar.Server.Processes;

/// <summary>POSIX signals to whole process groups: a server and everything it started (mariadbd).</summary>
public static partial class Signals
{
    /// <summary>SIGKILL.</summary>
    public const int Kill = 9;

    /// <summary>SIGINT: a Foobar server stops at once, without a lame duck (the control plane drained it first).</summary>
    public const int Interrupt = 2;

    /// <summary>SIGTERM.</summary>
    public const int Terminate = 15;

    /// <summary>Sends <paramref name="signal"/> to the process group led by <paramref name="process"/>, if it is still that process.</summary>
    /// <returns>Whether the signal was sent.</returns>
    public static bool SendToGroup(ProcessIdentity process, int signal) =>
        process.IsAlive && (SysKill(-process.Pid, signal) == 0 || SysKill(process.Pid, signal) == 0);

    /// <summary>
    /// Sends <paramref name="signal"/> to what is left of the process group <paramref name="groupId"/>
    /// after its leader exited (a shell's children). The id cannot have been reused while any
    /// member lives; call it right after the leader was reaped.
    /// </summary>
    public static bool SendToRemainingGroup(int groupId, int signal) => SysKill(-groupId, signal) == 0;

    /// <summary>Sends <paramref name="signal"/> to one process, if it is still that process.</summary>
    public static bool Send(ProcessIdentity process, int signal) => process.IsAlive && SysKill(process.Pid, signal) == 0;

    /// <summary>
    /// Gives <paramref name="signal"/> its default disposition back if this process started with it
    /// ignored (a shell's background job starts so with SIGINT and SIGQUIT), so that handlers
    /// registered from now on (<see cref="PosixSignalRegistration"/>) receive it. Leaves a handler
    /// that is installed already alone.
    /// </summary>
    public static unsafe void Unignore(int signal)
    {
        // struct sigaction begins with its handler on Linux (x86-64 and arm64); the rest is room.
        var action = stackalloc byte[256];
        if (SysSigaction(signal, null, action) == 0 && *(nint*)action == 1 /* SIG_IGN */)
        {
            SysSignal(signal, 0 /* SIG_DFL */);
        }
    }

    [LibraryImport("libc", EntryPoint = "sigaction")]
    private static unsafe partial int SysSigaction(int signal, byte* action, byte* old);

    [LibraryImport("libc", EntryPoint = "signal")]
    private static partial nint SysSignal(int signal, nint handler);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int signal);
}
