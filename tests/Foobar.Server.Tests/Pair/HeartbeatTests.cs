using System.Net;
using System.Net.Sockets;
using System.Text;
using Foobar.Server.Pair;
using Foobar.Testing;

namespace Foobar.Server.Tests.Pair;

/// <summary>The heartbeat's datagrams, and a responder fed bad ones.</summary>
public sealed class HeartbeatTests
{
    [Fact]
    public void PingAndPong_RoundTrip()
    {
        var buffer = new byte[Heartbeat.MaxLength];

        Assert.True(Heartbeat.TryReadPing(buffer.AsSpan(0, Heartbeat.WritePing(42, buffer)), out var nonce));
        Assert.Equal(42, nonce);
        Assert.True(Heartbeat.TryReadPong(buffer.AsSpan(0, Heartbeat.WritePong(new(7, "lb2", 4242, true), buffer)), out var pong));
        Assert.Equal(new Heartbeat.Pong(7, "lb2", 4242, true), pong);
    }

    [Theory]
    [InlineData("")]
    [InlineData("foobar-heartbeat 1 ")]
    [InlineData("foobar-heartbeat 2 ping 1")]
    [InlineData("foobar-heartbeat 1 ping")]
    [InlineData("foobar-heartbeat 1 ping -1")]
    [InlineData("foobar-heartbeat 1 ping 1 2")]
    [InlineData("foobar-heartbeat 1 ping 99999999999999999999999")]
    [InlineData("foobar-heartbeat 1 ping 1\n")]
    [InlineData("foobar-heartbeat 1 pong 1 lb1 42 1")]
    [InlineData("GET / HTTP/1.1")]
    public void NotAPing_IsNotReadAsOne(string datagram) =>
        Assert.False(Heartbeat.TryReadPing(Encoding.ASCII.GetBytes(datagram), out _));

    [Theory]
    [InlineData("foobar-heartbeat 1 pong 1 lb1 42 2")]
    [InlineData("foobar-heartbeat 1 pong 1 lb1 0 1")]
    [InlineData("foobar-heartbeat 1 pong 1 lb1 -5 1")]
    [InlineData("foobar-heartbeat 1 pong 1 lb1 42")]
    [InlineData("foobar-heartbeat 1 pong x lb1 42 1")]
    [InlineData("foobar-heartbeat 1 ping 1")]
    public void NotAPong_IsNotReadAsOne(string datagram) =>
        Assert.False(Heartbeat.TryReadPong(Encoding.ASCII.GetBytes(datagram), out _));

    [Fact]
    public void ADatagramLongerThanAnyHeartbeat_IsNotOne() =>
        Assert.False(Heartbeat.TryReadPing(Encoding.ASCII.GetBytes("foobar-heartbeat 1 ping 1" + new string(' ', Heartbeat.MaxLength)), out _));

    [Fact]
    public void Responder_AfterGarbageAndOversizedDatagrams_StillAnswersAPing_WithItsNamePidAndWhetherItHolds()
    {
        var holds = false;
        using var responder = HeartbeatResponder.Start(new IPEndPoint(IPAddress.Loopback, 0), "lb1", 4242, () => holds, new ListLogger());
        using var asker = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 10_000 };
        asker.Bind(new IPEndPoint(IPAddress.Loopback, 0));

        asker.SendTo(Encoding.ASCII.GetBytes("garbage\0\xff"), responder.EndPoint);
        asker.SendTo(new byte[9000], responder.EndPoint);
        asker.SendTo(Encoding.ASCII.GetBytes("foobar-heartbeat 1 ping 5"), responder.EndPoint);
        var first = Answer(asker);
        holds = true;
        asker.SendTo(Encoding.ASCII.GetBytes("foobar-heartbeat 1 ping 6"), responder.EndPoint);
        var second = Answer(asker);

        Assert.Equal(new Heartbeat.Pong(5, "lb1", 4242, false), first);
        Assert.Equal(new Heartbeat.Pong(6, "lb1", 4242, true), second);
    }

    [Fact]
    public void Responder_OnAPortInUse_SaysWhichAndWhatToDo()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));

        var e = Assert.Throws<InvalidOperationException>(() => HeartbeatResponder.Start((IPEndPoint)taken.LocalEndPoint!, "lb1", 1, () => false, new ListLogger()));

        Assert.Contains($"UDP {taken.LocalEndPoint}", e.Message);
        Assert.Contains("admin.port", e.Message);
    }

    private static Heartbeat.Pong Answer(Socket asker)
    {
        var buffer = new byte[Heartbeat.MaxLength + 1];
        var length = asker.Receive(buffer);
        Assert.True(Heartbeat.TryReadPong(buffer.AsSpan(0, length), out var pong), Encoding.ASCII.GetString(buffer, 0, length));
        return pong;
    }
}
