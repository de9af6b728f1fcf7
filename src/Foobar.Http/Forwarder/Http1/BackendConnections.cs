using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Foobar.Http.Backends;
using Foobar.Http.Transport;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging.Abstractions;

namespace Foobar.Http.Forwarder.Http1;

/// <summary>
/// The idle keep-alive connections to one backend, newest first, so that a quiet period lets
/// the oldest expire. Connections idle longer than <see cref="IdleTimeout"/> are closed, as are
/// those the backend closed meanwhile; a backend removed from every pool takes its connections
/// with it once collected.
/// </summary>
internal sealed class BackendConnections
{
    /// <summary>
    /// How long an idle connection is kept: shorter than the keep-alive timeouts of the servers
    /// behind (nginx 75 s, Kestrel 130 s), so that a backend rarely closes one we are about to use.
    /// </summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(50);

    /// <summary>At most this many idle connections per backend; more are closed when put back.</summary>
    public const int MaxIdle = 1024;

    private static readonly ConditionalWeakTable<Backend, BackendConnections> All = [];
    private static readonly SocketConnectionContextFactory Factory = new(new SocketConnectionFactoryOptions
    {
        // Completions run on the socket's event thread, as on Kestrel's listeners
        // (KestrelSettings): no thread-pool handoff per read.
        UnsafePreferInlineScheduling = true,
        // A read buffer is taken only when bytes arrive; waiting for them first costs one more
        // receive call per response.
        WaitForDataBeforeAllocatingBuffer = false,
    }, NullLogger.Instance);
    private static readonly Timer Scavenger = new(static _ => CloseExpired(), null, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));

    private readonly Lock _lock = new();
    private readonly Stack<BackendConnection> _idle = new();
    private readonly EndPoint _endPoint;

    private BackendConnections(Uri baseUri)
    {
        _endPoint = IPAddress.TryParse(baseUri.IdnHost, out var address)
            ? new IPEndPoint(address, baseUri.Port)
            : new DnsEndPoint(baseUri.IdnHost, baseUri.Port);
    }

    /// <summary>The connections of <paramref name="backend"/>.</summary>
    public static BackendConnections For(Backend backend) =>
        All.GetValue(backend, static backend => new BackendConnections(backend.BaseUri));

    /// <summary>The newest idle connection that is still usable; null when there is none.</summary>
    public BackendConnection? TakeIdle()
    {
        while (true)
        {
            BackendConnection? connection;
            lock (_lock)
            {
                if (!_idle.TryPop(out connection))
                {
                    return null;
                }
            }
            if (connection.LooksReusable() && Elapsed(connection) < IdleTimeout)
            {
                return connection;
            }
            _ = connection.DisposeAsync();
        }
    }

    /// <summary>Opens a new connection, from <paramref name="localAddress"/> when given.</summary>
    /// <exception cref="HttpRequestException">With <see cref="HttpRequestError.ConnectionError"/>: refused, unreachable, or not accepted within <paramref name="timeout"/>.</exception>
    public async ValueTask<BackendConnection> ConnectAsync(TimeSpan timeout, IPAddress? localAddress, CancellationToken aborted)
    {
        var socket = _endPoint is IPEndPoint ip
            ? new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.NoDelay = true;
            if (localAddress is not null)
            {
                socket.Bind(new IPEndPoint(localAddress, 0));
            }
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(aborted);
            deadline.CancelAfter(timeout);
            if (EpollTransport.Enabled && _endPoint is IPEndPoint address)
            {
                return new BackendConnection(await EpollConnection.ConnectAsync(socket, address, EpollTransport.Pool, deadline.Token).ConfigureAwait(false), this);
            }
            await socket.ConnectAsync(_endPoint, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            socket.Dispose();
            throw new HttpRequestException(HttpRequestError.ConnectionError, $"{_endPoint} did not accept a connection within {timeout.TotalSeconds:0.###} s");
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new HttpRequestException(HttpRequestError.ConnectionError, $"{e.Message} ({_endPoint})", e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new BackendConnection(Factory.Create(socket), this);
    }

    /// <summary>Puts a connection whose last response was read completely back for the next request.</summary>
    public void Return(BackendConnection connection)
    {
        connection.IdleSince = TimeProvider.System.GetTimestamp();
        lock (_lock)
        {
            if (_idle.Count < MaxIdle)
            {
                _idle.Push(connection);
                return;
            }
        }
        _ = connection.DisposeAsync();
    }

    private static TimeSpan Elapsed(BackendConnection connection) => TimeProvider.System.GetElapsedTime(connection.IdleSince);

    /// <summary>Closes idle connections past <see cref="IdleTimeout"/> or closed by their backend, in every pool.</summary>
    private static void CloseExpired()
    {
        foreach (var (_, connections) in All)
        {
            connections.CloseExpiredHere();
        }
    }

    private void CloseExpiredHere()
    {
        List<BackendConnection>? expired = null;
        lock (_lock)
        {
            if (_idle.Count == 0)
            {
                return;
            }
            var kept = new List<BackendConnection>(_idle.Count);
            // Oldest first, so the stack keeps its order when pushed back.
            foreach (var connection in _idle.Reverse())
            {
                if (Elapsed(connection) < IdleTimeout && connection.LooksReusable())
                {
                    kept.Add(connection);
                }
                else
                {
                    (expired ??= []).Add(connection);
                }
            }
            if (expired is null)
            {
                return;
            }
            _idle.Clear();
            foreach (var connection in kept)
            {
                _idle.Push(connection);
            }
        }
        foreach (var connection in expired)
        {
            _ = connection.DisposeAsync();
        }
    }
}
