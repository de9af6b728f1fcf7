using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Foobar.Http.Transport;

namespace Foobar.Http.Tests.Transport;

/// <summary>The loops' io_uring for sends (<c>LoopRing</c>) on real loopback sockets.</summary>
public sealed unsafe class LoopRingTests
{
    private sealed class Results : IRingCompletions
    {
        public Dictionary<ulong, int> Seen { get; } = [];

        public void Completed(ulong userData, int result) => Seen.Add(userData, result);
    }

    [Fact]
    public void ItsOwnMessages_GoOutInOneSubmission_EachCompletedWithItsLength()
    {
        if (!LoopRing.IsAvailable)
        {
            // A kernel without io_uring, or a container's policy against it: the loops send with send only.
            return;
        }
        using var ring = LoopRing.Create(8)!;
        var pairs = Enumerable.Range(0, 3).Select(_ => Pair()).ToArray();
        var texts = new[] { "first", "the second", "third and last" };
        var messages = (Native.MessageHeader*)NativeMemory.AllocZeroed((nuint)(3 * sizeof(Native.MessageHeader)));
        var vectors = (Native.IoVector*)NativeMemory.AllocZeroed((nuint)(6 * sizeof(Native.IoVector)));
        var pins = texts.Select(t => GCHandle.Alloc(Encoding.ASCII.GetBytes(t), GCHandleType.Pinned)).ToArray();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var bytes = (byte[])pins[i].Target!;
                // Two vectors per message: the text split in two.
                var half = bytes.Length / 2;
                vectors[2 * i] = new Native.IoVector { Base = (void*)pins[i].AddrOfPinnedObject(), Length = (nuint)half };
                vectors[2 * i + 1] = new Native.IoVector { Base = (byte*)pins[i].AddrOfPinnedObject() + half, Length = (nuint)(bytes.Length - half) };
                messages[i] = new Native.MessageHeader { Vectors = vectors + 2 * i, VectorCount = 2 };
                Assert.True(ring.QueueSendMessage((int)pairs[i].Sender.Handle, messages + i, Native.MSG_DONTWAIT | Native.MSG_NOSIGNAL, (ulong)(100 + i)));
            }
            Assert.Equal(3, ring.Queued);
            var before = LoopRing.Submitted;
            var results = new Results();

            ring.Submit(results);

            Assert.Equal(0, ring.Queued);
            Assert.True(LoopRing.Submitted - before >= 3);
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(texts[i].Length, results.Seen[(ulong)(100 + i)]);
                var buffer = new byte[64];
                var n = pairs[i].Receiver.Receive(buffer);
                Assert.Equal(texts[i], Encoding.ASCII.GetString(buffer, 0, n));
            }
        }
        finally
        {
            foreach (var pin in pins)
            {
                pin.Free();
            }
            NativeMemory.Free(messages);
            NativeMemory.Free(vectors);
            foreach (var (sender, receiver) in pairs)
            {
                sender.Dispose();
                receiver.Dispose();
            }
        }
    }

    [Fact]
    public void ASocketWhoseBufferIsFull_CompletesAtOnceWithEagain_AndAFullRingRefusesMore()
    {
        if (!LoopRing.IsAvailable)
        {
            // A kernel without io_uring, or a container's policy against it: the loops send with send only.
            return;
        }
        using var ring = LoopRing.Create(2)!;
        var (sender, receiver) = Pair();
        using var _ = sender;
        using var __ = receiver;
        sender.Blocking = false;
        var chunk = new byte[64 * 1024];
        while (sender.Send(chunk, SocketFlags.None, out var error) > 0 && error == SocketError.Success)
        {
        }
        var message = default(Native.MessageHeader);
        var vector = default(Native.IoVector);
        fixed (byte* p = chunk)
        {
            vector = new Native.IoVector { Base = p, Length = 1024 };
            message = new Native.MessageHeader { Vectors = &vector, VectorCount = 1 };
            Assert.True(ring.QueueSendMessage((int)sender.Handle, &message, Native.MSG_DONTWAIT | Native.MSG_NOSIGNAL, 1));
            Assert.True(ring.QueueSendMessage((int)sender.Handle, &message, Native.MSG_DONTWAIT | Native.MSG_NOSIGNAL, 2));
            Assert.False(ring.QueueSendMessage((int)sender.Handle, &message, Native.MSG_DONTWAIT | Native.MSG_NOSIGNAL, 3));
            var results = new Results();

            ring.Submit(results);

            // Nothing waits in the ring: a full socket is an answer, not an operation in flight.
            Assert.Equal(-Native.EAGAIN, results.Seen[1]);
            Assert.Equal(-Native.EAGAIN, results.Seen[2]);
        }
    }

    [Fact]
    public void AnEntryTheKernelDoesNotCompleteInsideTheCall_IsWaitedFor_NeverLeftForTheNextBatch()
    {
        if (!LoopRing.IsAvailable)
        {
            return;
        }
        using var ring = LoopRing.Create(4)!;
        var (sender, receiver) = Pair();
        using var _ = sender;
        using var __ = receiver;
        var buffer = new byte[16];
        var waitedBefore = LoopRing.Waited;
        fixed (byte* p = buffer)
        {
            // Without MSG_DONTWAIT an empty socket leaves the recv in flight (the kernel polls it):
            // Submit must wait for it, or its completion would land in a later batch under a
            // number that names another connection by then.
            Assert.True(ring.QueueReceive((int)receiver.Handle, p, buffer.Length, 0, 7));
            var results = new Results();
            var answer = new Thread(() =>
            {
                // Sends once Submit counts a wait (or after 5 s, so a Submit that returned early fails the assertions below).
                SpinWait.SpinUntil(() => LoopRing.Waited != waitedBefore, TimeSpan.FromSeconds(5));
                sender.Send("late"u8);
            });
            answer.Start();

            ring.Submit(results);

            Assert.Equal(4, results.Seen[7]);
            Assert.Equal("late", Encoding.ASCII.GetString(buffer, 0, 4));
            Assert.True(LoopRing.Waited > waitedBefore);
            answer.Join();
        }
        // The next batch sees only its own completions.
        var message = default(Native.MessageHeader);
        var vector = default(Native.IoVector);
        fixed (byte* p = "next"u8)
        {
            vector = new Native.IoVector { Base = p, Length = 4 };
            message = new Native.MessageHeader { Vectors = &vector, VectorCount = 1 };
            Assert.True(ring.QueueSendMessage((int)sender.Handle, &message, Native.MSG_DONTWAIT | Native.MSG_NOSIGNAL, 8));
            var next = new Results();
            ring.Submit(next);
            Assert.Equal([8UL], next.Seen.Keys);
        }
    }

    [Fact]
    public void ARingTheKernelRefuses_IsNull_NotAnException()
    {
        // Zero entries: io_uring_setup says EINVAL, as it says EPERM or ENOSYS where io_uring is off.
        Assert.Null(LoopRing.Create(0));
    }

    private static (Socket Sender, Socket Receiver) Pair()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var sender = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        sender.Connect(listener.LocalEndPoint!);
        return (sender, listener.Accept());
    }
}
