using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Foobar.Http.Transport;

/// <summary>
/// Bytes that never change, kept in a Linux memory file (<c>memfd_create</c>) sealed against
/// writing, growing and shrinking, so <see cref="SocketOutput.WriteFile"/> can hand them to
/// the kernel with <c>sendfile</c>: the socket takes the file's pages as they are, with no copy
/// of the bytes on sending — nginx's <c>sendfile</c> from the page cache, and, unlike a file on
/// disk, nothing can change them under a response whose headers were made earlier.
/// </summary>
/// <remarks>
/// The descriptor closes when the last reference goes (the handle's finalizer), so a response
/// still sending from it when its owner is replaced (a file edited on disk) is never cut short.
/// </remarks>
internal sealed class SealedFile
{
    private SealedFile(SafeFileHandle handle, int length)
    {
        Handle = handle;
        Length = length;
    }

    /// <summary>The memory file's descriptor.</summary>
    public SafeFileHandle Handle { get; }

    /// <summary>How many bytes it holds.</summary>
    public int Length { get; }

    /// <summary>Whether memory files can be made here (Linux, where the epoll transport runs).</summary>
    public static bool IsSupported => Native.IsSupported;

    /// <summary>
    /// A sealed memory file holding a copy of <paramref name="bytes"/>; null when none can be made
    /// (not Linux, no descriptors left, no memory): the caller sends the bytes from memory then.
    /// </summary>
    /// <param name="name">What the file is called in <c>/proc/PID/fd</c> (for people looking).</param>
    /// <param name="bytes">The bytes.</param>
    public static SealedFile? Create(string name, ReadOnlySpan<byte> bytes)
    {
        if (!IsSupported)
        {
            return null;
        }
        var fd = Native.MemoryFileCreate(name, Native.MFD_CLOEXEC | Native.MFD_ALLOW_SEALING);
        if (fd < 0)
        {
            return null;
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            if (!WriteAll(handle, bytes)
                || Native.FileControl(handle, Native.F_ADD_SEALS, Native.F_SEAL_SEAL | Native.F_SEAL_SHRINK | Native.F_SEAL_GROW | Native.F_SEAL_WRITE) != 0)
            {
                handle.Dispose();
                return null;
            }
            return new SealedFile(handle, bytes.Length);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static unsafe bool WriteAll(SafeFileHandle handle, ReadOnlySpan<byte> bytes)
    {
        var written = 0;
        fixed (byte* start = bytes)
        {
            while (written < bytes.Length)
            {
                var wrote = Native.PositionedWrite(handle, start + written, bytes.Length - written, written);
                if (wrote > 0)
                {
                    written += (int)wrote;
                }
                else if (wrote == 0 || Marshal.GetLastPInvokeError() != Native.EINTR)
                {
                    return false;
                }
            }
        }
        return true;
    }
}
