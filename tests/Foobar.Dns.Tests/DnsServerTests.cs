using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Foobar.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Foobar.Dns.Tests;

/// <summary>The server on real UDP and TCP sockets on 127.0.0.1.</summary>
public sealed class DnsServerTests : IAsyncLifetime
{
    private readonly CancellationTokenSource _stop = new();
    private IPEndPoint _endPoint = null!;
    private Task _running = Task.CompletedTask;

    public Task InitializeAsync()
    {
        // A port free for both protocols: take one for UDP, and retry on the rare clash with TCP.
        for (var attempt = 0; ; attempt++)
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _endPoint = (IPEndPoint)probe.LocalEndPoint!;
            probe.Close();
            var server = new DnsServer(_endPoint, new Zone("foobar.com", () => [IPAddress.Parse("127.10.0.1")], new Dictionary<string, IPAddress>()), NullLogger.Instance);
            _running = server.RunAsync(_stop.Token);
            if (!_running.IsFaulted || attempt == 5)
            {
                return Task.CompletedTask;
            }
        }
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _running;
        _stop.Dispose();
    }

    [Fact]
    public async Task Udp_QueryIsAnswered()
    {
        using var udp = new UdpClient();
        await udp.SendAsync(DnsQueries.For("www.foobar.com"), _endPoint);

        var received = await udp.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([IPAddress.Parse("127.10.0.1")], DnsQueries.Read(received.Buffer).Addresses);
    }

    [Fact]
    public async Task Udp_GarbageIsDropped_AndTheServerAnswersTheNextQuery()
    {
        using var udp = new UdpClient();
        await udp.SendAsync(new byte[] { 1, 2, 3 }, _endPoint);
        await udp.SendAsync(DnsQueries.For("www.foobar.com", flags: 0x8000), _endPoint);
        await udp.SendAsync(DnsQueries.For("www.foobar.com", id: 77), _endPoint);

        var received = await udp.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(77, DnsQueries.Read(received.Buffer).Id);
    }

    [Fact]
    public async Task Tcp_TwoQueriesOnOneConnection_AreAnsweredWithLengthPrefixes()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(_endPoint);
        var stream = tcp.GetStream();
        foreach (var id in new ushort[] { 1, 2 })
        {
            var query = DnsQueries.For("foobar.com", id: id);
            var framed = new byte[query.Length + 2];
            BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)query.Length);
            query.CopyTo(framed, 2);
            await stream.WriteAsync(framed);

            var length = new byte[2];
            await stream.ReadExactlyAsync(length);
            var answer = new byte[BinaryPrimitives.ReadUInt16BigEndian(length)];
            await stream.ReadExactlyAsync(answer);

            Assert.Equal(id, DnsQueries.Read(answer).Id);
        }
    }

    [Fact]
    public async Task Tcp_ClientThatStalls_IsCut()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(_endPoint);
        var stream = tcp.GetStream();
        await stream.WriteAsync(new byte[] { 0, 40, 1, 2 }); // promises 40 bytes, sends 2

        var read = await stream.ReadAsync(new byte[16]).AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, read);
    }
}
