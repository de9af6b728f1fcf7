using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Foobar.LoadBalancer;

/// <summary>
/// Whether nobody has an address and port bound: a standby asks ten times a second
/// (<see cref="PublicAddressClaim"/>). On Linux plain system calls — <c>socket</c>,
/// <c>setsockopt</c>, <c>bind</c>, <c>close</c> — with the refusal as a return value; elsewhere a
/// <see cref="Socket"/> whose refused bind throws.
/// </summary>
/// <remarks>
/// The <see cref="Socket"/> way cost a standby load balancer 6–11 ms of CPU a second (of 23 it
/// spent idle): a managed socket with its finalizable handle each time, and a
/// <see cref="SocketException"/> thrown and caught ten times a second (docs/load-balancer.md).
/// </remarks>
internal static partial class AddressProbe
{
    private const int AfInet = 2;
    private const int AfInet6 = 10;
    private const int SockStream = 1;
    private const int SockCloexec = 0x80000;
    private const int SolSocket = 1;
    private const int SoReuseAddr = 2;

    /// <summary>True when a bind to <paramref name="endPoint"/> succeeds now (and is undone at once).</summary>
    public static bool IsFree(IPEndPoint endPoint)
    {
        if (!OperatingSystem.IsLinux())
        {
            return IsFreeBySocket(endPoint);
        }
        var family = endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? AfInet6 : AfInet;
        var fd = SocketCall(family, SockStream | SockCloexec, 0);
        if (fd < 0)
        {
            // Out of descriptors, say: the managed way gives the same answer, with its reasons.
            return IsFreeBySocket(endPoint);
        }
        try
        {
            // As the listener that would take it binds (Kestrel's, the runtime's sockets): connections
            // of the last holder still in TIME_WAIT on the port must not make it look taken.
            var reuse = 1;
            SetOption(fd, SolSocket, SoReuseAddr, ref reuse, sizeof(int));
            var address = endPoint.Serialize();
            return Bind(fd, ref address.Buffer.Span[0], address.Size) == 0;
        }
        finally
        {
            Close(fd);
        }
    }

    private static bool IsFreeBySocket(IPEndPoint endPoint)
    {
        using var probe = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            probe.Bind(endPoint);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int SocketCall(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    private static partial int SetOption(int fd, int level, int name, ref int value, int length);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    private static partial int Bind(int fd, ref byte address, int length);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
