using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Foobar.MySql.Transport;

/// <summary>The few Linux system calls <see cref="SocketStream"/> makes itself.</summary>
internal static partial class LibC
{
    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int EINPROGRESS = 115;

    public const int MSG_DONTWAIT = 0x40;
    public const int MSG_NOSIGNAL = 0x4000;

    public const int F_GETFL = 3;
    public const int F_SETFL = 4;
    public const int O_NONBLOCK = 0x800;

    public const int EPOLL_CLOEXEC = 0x80000;
    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_MOD = 3;
    public const uint EPOLLIN = 0x001;
    public const uint EPOLLOUT = 0x004;
    public const uint EPOLLERR = 0x008;
    public const uint EPOLLHUP = 0x010;
    public const uint EPOLLRDHUP = 0x2000;
    public const uint EPOLLONESHOT = 1u << 30;

    /// <summary>
    /// <c>struct epoll_event</c> is packed on x86-64 (12 bytes, data at offset 4) and naturally
    /// aligned elsewhere (16 bytes, data at offset 8).
    /// </summary>
    public static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    public static readonly int EpollDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    /// <summary>Whether this process can use the calls here (Linux on a 64-bit architecture whose layouts are known).</summary>
    public static bool IsSupported { get; } = OperatingSystem.IsLinux()
        && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    public static partial nint Receive(SafeSocketHandle socket, ref byte buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    public static partial nint Send(SafeSocketHandle socket, ref byte buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "sched_yield")]
    public static partial int SchedYield();

    [LibraryImport("libc", EntryPoint = "connect", SetLastError = true)]
    public static partial int Connect(SafeSocketHandle socket, ref byte address, int length);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(SafeSocketHandle socket, int command, int argument);

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    public static partial int EpollControl(int epoll, int operation, SafeSocketHandle socket, ref byte epollEvent);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    public static partial int EpollWait(int epoll, ref byte events, int maxEvents, int timeout);

    /// <summary>The <see cref="SocketException"/> for a Linux errno, so callers see the runtime's socket error codes.</summary>
    public static SocketException SocketError(int errno) => new((int)(errno switch
    {
        32 => System.Net.Sockets.SocketError.Shutdown,
        EAGAIN => System.Net.Sockets.SocketError.WouldBlock,
        101 => System.Net.Sockets.SocketError.NetworkUnreachable,
        103 => System.Net.Sockets.SocketError.ConnectionAborted,
        104 => System.Net.Sockets.SocketError.ConnectionReset,
        107 => System.Net.Sockets.SocketError.NotConnected,
        110 => System.Net.Sockets.SocketError.TimedOut,
        111 => System.Net.Sockets.SocketError.ConnectionRefused,
        113 => System.Net.Sockets.SocketError.HostUnreachable,
        _ => System.Net.Sockets.SocketError.SocketError,
    }));
}
