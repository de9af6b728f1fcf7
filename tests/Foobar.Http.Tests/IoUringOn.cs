using System.Runtime.CompilerServices;

namespace Foobar.Http.Tests;

/// <summary>
/// The transport's io_uring batching is on by default and off with <c>FOOBAR_IO_URING=0</c>; these
/// tests run with it whatever the environment says, so the event loops started here read and send
/// through their rings (Transport/LoopRingTests, EpollTransportTests).
/// </summary>
internal static class IoUringOn
{
    [ModuleInitializer]
    internal static void TurnOn() => Environment.SetEnvironmentVariable("FOOBAR_IO_URING", "1");
}
