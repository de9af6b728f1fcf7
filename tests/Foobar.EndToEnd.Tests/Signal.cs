using System.Runtime.InteropServices;

namespace Foobar.EndToEnd.Tests;

internal static partial class Signal
{
    public const int Terminate = 15;

    public const int Stop = 19;

    public static void Send(int pid, int signal) => Assert.Equal(0, SysKill(pid, signal));

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int SysKill(int pid, int signal);
}
