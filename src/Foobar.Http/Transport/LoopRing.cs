using System.Runtime.InteropServices;

namespace Foobar.Http.Transport;

/// <summary>
/// An <c>io_uring</c> of one <see cref="EpollLoop"/>, used to make a turn's system calls together:
/// the <c>recv</c>s of the connections epoll reported readable, then the <c>sendmsg</c>s of what
/// the turn's flushes left, each set with one <c>io_uring_enter</c>. The sockets are
/// non-blocking and every entry carries <c>MSG_DONTWAIT</c>, so the kernel runs each entry
/// during that call and its completion is there when the call returns (an empty socket or a full
/// one completes with <c>EAGAIN</c>, and epoll's edges take over as before): nothing is in
/// flight between turns, and nothing but the loop's thread ever touches the ring.
/// </summary>
/// <remarks>
/// Why: in this virtual machine a system call's entry and exit cost about 1.3 µs (a null call
/// measured with <c>getppid</c>), a quarter of a proxied request's CPU at its four calls. 64
/// sends of 1 KB on loopback: 3.2 µs each with <c>send</c>, 1.4 µs each submitted together
/// (2.7 in pairs, 3.7 alone); <c>recv</c> 3.2 against 1.3 — so a turn with one call to make
/// makes it as before.
/// </remarks>
internal sealed unsafe class LoopRing : IDisposable
{
    private const int IORING_OFF_SQ_RING = 0;
    private const long IORING_OFF_CQ_RING = 0x8000000;
    private const long IORING_OFF_SQES = 0x10000000;
    private const uint IORING_FEAT_SINGLE_MMAP = 1;
    private const int IORING_ENTER_GETEVENTS = 1;
    private const byte IORING_OP_SENDMSG = 9;
    private const byte IORING_OP_RECV = 27;
    private const int SqeSize = 64;
    private const int CqeSize = 16;

    private readonly int _fd;
    private readonly byte* _rings;
    private readonly nuint _ringsLength;
    private readonly byte* _cqRing;
    private readonly nuint _cqLength;
    private readonly byte* _sqes;
    private readonly nuint _sqesLength;
    private readonly uint* _sqTail;
    private readonly uint* _sqHead;
    private readonly uint _sqMask;
    private readonly uint* _sqArray;
    private readonly uint* _cqHead;
    private readonly uint* _cqTail;
    private readonly uint _cqMask;
    private readonly byte* _cqes;
    private uint _queued;

    private LoopRing(int fd, in Native.UringParams p)
    {
        _fd = fd;
        Capacity = (int)p.SqEntries;
        var sqLength = (nuint)(p.SqOff.Array + p.SqEntries * sizeof(uint));
        var cqLength = (nuint)(p.CqOff.Cqes + p.CqEntries * CqeSize);
        var single = (p.Features & IORING_FEAT_SINGLE_MMAP) != 0;
        _ringsLength = single ? Math.Max(sqLength, cqLength) : sqLength;
        _rings = Map(fd, _ringsLength, IORING_OFF_SQ_RING);
        if (single)
        {
            _cqRing = _rings;
        }
        else
        {
            _cqLength = cqLength;
            _cqRing = Map(fd, cqLength, IORING_OFF_CQ_RING);
        }
        _sqesLength = (nuint)(p.SqEntries * SqeSize);
        _sqes = Map(fd, _sqesLength, IORING_OFF_SQES);
        _sqHead = (uint*)(_rings + p.SqOff.Head);
        _sqTail = (uint*)(_rings + p.SqOff.Tail);
        _sqMask = *(uint*)(_rings + p.SqOff.RingMask);
        _sqArray = (uint*)(_rings + p.SqOff.Array);
        _cqHead = (uint*)(_cqRing + p.CqOff.Head);
        _cqTail = (uint*)(_cqRing + p.CqOff.Tail);
        _cqMask = *(uint*)(_cqRing + p.CqOff.RingMask);
        _cqes = _cqRing + p.CqOff.Cqes;
    }

    /// <summary>Entries submitted by every ring of the process so far (for tests and diagnostics).</summary>
    public static long Submitted => Interlocked.Read(ref _submitted);

    private static long _submitted;

    /// <summary>Whether rings can be made here (one is made and closed to find out, once).</summary>
    public static bool IsAvailable => Available.Value;

    private static readonly Lazy<bool> Available = new(() =>
    {
        using var ring = Create(2);
        return ring is not null;
    });

    /// <summary>Entries one submission holds at most.</summary>
    public int Capacity { get; }

    /// <summary>Entries queued and not yet submitted.</summary>
    public int Queued => (int)_queued;

    /// <summary>
    /// A ring of <paramref name="entries"/> entries, or null where there is none: turned off
    /// (<c>FOOBAR_IO_URING=0</c>), not Linux, a kernel without io_uring, or one where it is turned off (<c>kernel.io_uring_disabled</c>,
    /// a seccomp filter, a container's policy) — the loop then sends with <c>send</c> only.
    /// </summary>
    public static LoopRing? Create(uint entries)
    {
        if (!Native.IsSupported || Environment.GetEnvironmentVariable("FOOBAR_IO_URING") == "0")
        {
            return null;
        }
        var p = default(Native.UringParams);
        var fd = (int)Native.Syscall(Native.SYS_io_uring_setup, (nint)entries, (nint)(&p), 0, 0, 0, 0);
        if (fd < 0)
        {
            return null;
        }
        try
        {
            return new LoopRing(fd, p);
        }
        catch (IOException)
        {
            Native.Close(fd);
            return null;
        }
    }

    /// <summary>
    /// Queues a <c>sendmsg</c> of <paramref name="message"/> on <paramref name="socket"/> with
    /// <paramref name="flags"/>; its completion carries <paramref name="userData"/>. The message
    /// and the memory it points to must stay until <see cref="Submit"/> returns.
    /// </summary>
    /// <returns>False when the ring is full: submit first.</returns>
    public bool QueueSendMessage(int socket, Native.MessageHeader* message, int flags, ulong userData)
    {
        var sqe = Next();
        if (sqe == null)
        {
            return false;
        }
        sqe[0] = IORING_OP_SENDMSG;
        *(int*)(sqe + 4) = socket;
        *(ulong*)(sqe + 16) = (ulong)message;
        *(uint*)(sqe + 24) = 1;
        *(int*)(sqe + 28) = flags;
        *(ulong*)(sqe + 32) = userData;
        return true;
    }

    /// <summary>
    /// Queues a <c>recv</c> of up to <paramref name="length"/> bytes into <paramref name="buffer"/>
    /// on <paramref name="socket"/> with <paramref name="flags"/> (<c>MSG_DONTWAIT</c>: an empty
    /// socket answers <c>EAGAIN</c> at once instead of the ring waiting for it); its completion
    /// carries <paramref name="userData"/>. The buffer must stay until <see cref="Submit"/> returns.
    /// </summary>
    /// <returns>False when the ring is full: submit first.</returns>
    public bool QueueReceive(int socket, byte* buffer, int length, int flags, ulong userData)
    {
        var sqe = Next();
        if (sqe == null)
        {
            return false;
        }
        sqe[0] = IORING_OP_RECV;
        *(int*)(sqe + 4) = socket;
        *(ulong*)(sqe + 16) = (ulong)buffer;
        *(uint*)(sqe + 24) = (uint)length;
        *(int*)(sqe + 28) = flags;
        *(ulong*)(sqe + 32) = userData;
        return true;
    }

    /// <summary>The next entry, cleared and counted as queued; null when the ring is full.</summary>
    private byte* Next()
    {
        if (_queued == Capacity)
        {
            return null;
        }
        var index = (*_sqTail + _queued) & _sqMask;
        var sqe = _sqes + index * SqeSize;
        new Span<byte>(sqe, SqeSize).Clear();
        _sqArray[index] = index;
        _queued++;
        return sqe;
    }

    /// <summary>
    /// Submits what was queued with one <c>io_uring_enter</c>, then hands each completion to
    /// <paramref name="completed"/>. Returns only once every entry submitted has completed: with
    /// <c>MSG_DONTWAIT</c> on non-blocking sockets the kernel completes them inside the call, and
    /// should it ever not (an entry left unsubmitted, one handed to a kernel worker), this waits for
    /// them rather than let a later batch find a completion that points at memory reused since.
    /// </summary>
    /// <exception cref="IOException">The ring failed (never expected on a working ring).</exception>
    public void Submit(IRingCompletions completed)
    {
        if (_queued == 0)
        {
            return;
        }
        Volatile.Write(ref *_sqTail, *_sqTail + _queued);
        var expected = _queued;
        _queued = 0;
        Interlocked.Add(ref _submitted, expected);
        var seen = 0u;
        var flags = 0;
        while (true)
        {
            var unsubmitted = Volatile.Read(ref *_sqTail) - Volatile.Read(ref *_sqHead);
            var waitFor = flags == 0 ? 0 : expected - seen;
            if (Native.Syscall(Native.SYS_io_uring_enter, _fd, (nint)unsubmitted, (nint)waitFor, flags, 0, 0) < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno != Native.EINTR && errno != Native.EAGAIN && errno != Native.EBUSY)
                {
                    throw new IOException($"io_uring_enter failed: {Marshal.GetPInvokeErrorMessage(errno)}");
                }
            }
            seen += Reap(completed);
            if (seen >= expected)
            {
                return;
            }
            // Rare: entries still unsubmitted or in flight. Wait for them (and submit the rest).
            flags = IORING_ENTER_GETEVENTS;
            Interlocked.Increment(ref _waited);
        }
    }

    /// <summary>How many times a submission had to wait for entries the kernel did not complete inside the call (for tests and diagnostics; expected 0).</summary>
    public static long Waited => Interlocked.Read(ref _waited);

    private static long _waited;

    /// <summary>Hands every completion in the queue to <paramref name="completed"/>; how many there were.</summary>
    private uint Reap(IRingCompletions completed)
    {
        var head = *_cqHead;
        var tail = Volatile.Read(ref *_cqTail);
        var count = tail - head;
        for (; head != tail; head++)
        {
            var cqe = _cqes + (head & _cqMask) * CqeSize;
            completed.Completed(*(ulong*)cqe, *(int*)(cqe + 8));
        }
        Volatile.Write(ref *_cqHead, head);
        return count;
    }

    private static byte* Map(int fd, nuint length, long offset)
    {
        var address = Native.MemoryMap(null, length, Native.PROT_READ | Native.PROT_WRITE, Native.MAP_SHARED | Native.MAP_POPULATE, fd, offset);
        if (address == (void*)-1)
        {
            throw new IOException($"mmap of an io_uring failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
        return (byte*)address;
    }

    /// <summary>Unmaps and closes the ring; only once nothing submits any more.</summary>
    public void Dispose()
    {
        Native.MemoryUnmap(_sqes, _sqesLength);
        if (_cqRing != _rings)
        {
            Native.MemoryUnmap(_cqRing, _cqLength);
        }
        Native.MemoryUnmap(_rings, _ringsLength);
        Native.Close(_fd);
    }
}

/// <summary>Where <see cref="LoopRing.Submit"/> reports each entry's end.</summary>
internal interface IRingCompletions
{
    /// <summary>The entry queued with <paramref name="userData"/> ended: <paramref name="result"/> bytes sent, or −errno.</summary>
    void Completed(ulong userData, int result);
}
