using System.Net;
using System.Net.Sockets;
using Foobar.MySql.Transport;

namespace Foobar.MySql.Tests.Transport;

/// <summary>Our <see cref="SocketStream"/>s connected to peer sockets on loopback, for the transport tests.</summary>
internal sealed class LoopbackPeers : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

    public LoopbackPeers() => _listener.Start();

    /// <summary>A connected pair: our stream and the peer's socket.</summary>
    public Task<(SocketStream Stream, Socket Peer)> ConnectAsync() =>
        ConnectAsync(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));

    /// <summary>A connected pair over <paramref name="socket"/> (unconnected), for a test that watches the socket itself.</summary>
    public async Task<(SocketStream Stream, Socket Peer)> ConnectAsync(Socket socket)
    {
        var stream = new SocketStream(socket);
        var accepting = _listener.AcceptSocketAsync();
        await stream.ConnectAsync((IPEndPoint)_listener.LocalEndpoint, CancellationToken.None);
        return (stream, await accepting);
    }

    public void Dispose() => _listener.Dispose();
}
