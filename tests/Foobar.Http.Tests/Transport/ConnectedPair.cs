using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Foobar.Http.Transport;

namespace Foobar.Http.Tests.Transport;

/// <summary>An <see cref="EpollConnection"/> to a loopback listener, and the peer's accepted socket.</summary>
internal static class ConnectedPair
{
    /// <param name="sendBuffer">The connection's SO_SNDBUF, and the peer's SO_RCVBUF; null for the system's.</param>
    public static async Task<(EpollConnection Connection, Socket Peer)> ConnectAsync(int? sendBuffer = null)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepting = listener.AcceptSocketAsync();
        if (sendBuffer is { } size)
        {
            // Inherited by the accepted socket before its handshake, so the window stays small too.
            listener.Server.ReceiveBufferSize = size;
        }
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (sendBuffer is { } bytes)
        {
            socket.SendBufferSize = bytes;
        }
        var connection = await EpollConnection.ConnectAsync(socket, (IPEndPoint)listener.LocalEndpoint, MemoryPool<byte>.Shared, CancellationToken.None);
        return (connection, await accepting);
    }
}
