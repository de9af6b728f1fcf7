using System.Net;
using System.Net.Sockets;

namespace Foobar.LoadBalancer.Tests;

public class AddressProbeTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    public void AnAddressSomeoneListensOn_IsNotFree_AndIsFreeOnceTheyClose(string address)
    {
        var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Parse(address), 0));
        listener.Listen();
        var endPoint = (IPEndPoint)listener.LocalEndPoint!;

        Assert.False(AddressProbe.IsFree(endPoint));

        listener.Dispose();
        Assert.True(AddressProbe.IsFree(endPoint));
    }

    [Fact]
    public async Task AnAddressWhoseHolderClosedItsConnectionsFirst_IsFree_ThoughTheyWaitInTimeWait()
    {
        var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var endPoint = (IPEndPoint)listener.LocalEndPoint!;
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(endPoint);
        using (var accepted = await listener.AcceptAsync())
        {
            // The holder's side closes first, so its end of the connection waits in TIME_WAIT.
            accepted.Shutdown(SocketShutdown.Both);
        }
        Assert.Equal(0, await client.ReceiveAsync(new byte[1]));
        listener.Dispose();

        Assert.True(AddressProbe.IsFree(endPoint));
    }

    [Fact]
    public void AnAddressThisMachineDoesNotHave_IsNotFree()
    {
        // TEST-NET-1: never local, so bind() refuses it (EADDRNOTAVAIL); nothing is sent anywhere.
        Assert.False(AddressProbe.IsFree(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 80)));
    }

    [Fact]
    public void Probing_LeavesNoDescriptorOpen_AndTheAddressFree()
    {
        var endPoint = new IPEndPoint(IPAddress.Loopback, Foobar.Testing.LoopbackServer.ClosedPort().Port);
        var before = Directory.GetFiles("/proc/self/fd").Length;

        for (var i = 0; i < 200; i++)
        {
            Assert.True(AddressProbe.IsFree(endPoint));
        }

        // Other test classes run meanwhile and open descriptors of their own (CI once saw one more):
        // a probe that leaked would leave 200.
        Assert.InRange(Directory.GetFiles("/proc/self/fd").Length, 0, before + 100);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(endPoint);
    }
}
