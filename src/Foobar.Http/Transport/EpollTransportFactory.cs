using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace Foobar.Http.Transport;

/// <summary>
/// Kestrel's listeners on <see cref="EpollLoop"/>s (IP endpoints; anything else is left to
/// Kestrel's socket transport). Accepting stays with the runtime (one call per connection); the
/// accepted socket is then ours alone.
/// </summary>
internal sealed class EpollTransportFactory(IMemoryPoolFactory<byte> pools) : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    /// <summary>Kestrel's socket transport's default.</summary>
    private const int Backlog = 512;

    private readonly MemoryPool<byte> _pool = pools.Create();

    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var ip = (IPEndPoint)endpoint;
        var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (ip.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }
            socket.Bind(ip);
            socket.Listen(Backlog);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            socket.Dispose();
            // What Kestrel's own transport throws, and turns into "address already in use".
            throw new AddressInUseException(e.Message, e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new(new Listener(socket, _pool));
    }

    private sealed class Listener(Socket socket, MemoryPool<byte> pool) : IConnectionListener
    {
        public EndPoint EndPoint { get; } = socket.LocalEndPoint!;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            while (true)
            {
                try
                {
                    var accepted = await socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
                    accepted.NoDelay = true;
                    return EpollConnection.Accepted(accepted, pool);
                }
                catch (ObjectDisposedException)
                {
                    return null;
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.OperationAborted)
                {
                    return null;
                }
                catch (SocketException)
                {
                    // Reset before it was accepted: take the next.
                }
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
