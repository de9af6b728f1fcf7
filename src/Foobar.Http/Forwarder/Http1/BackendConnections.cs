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
/// <remarks>
/// On Foobar's transport a connection belongs to the event loop that opened it, and waits for
/// reuse among that loop's: a request read on a loop's thread is sent, answered and passed back
/// on that thread (no wake-up of another processor, no data moving between caches), as nginx
/// keeps a worker's upstream connections to itself. Callers off the loops share one more stack.
/// </remarks>
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

    /// <summary>Per loop (<see cref="EpollLoop.Index"/>), and last the stack of connections on no loop.</summary>
    private readonly Stack<BackendConnection>[] _idle = [.. Enumerable.Range(0, EpollLoop.Count + 1).Select(_ => new Stack<BackendConnection>())];
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

    /// <summary>
    /// The newest idle connection that is still usable: on a loop's thread one of that loop's (a
    /// new one on the loop is better than one on another), elsewhere any; null when there is none.
    /// </summary>
    public BackendConnection? TakeIdle()
    {
        var loop = EpollLoop.Current;
        while (true)
        {
            BackendConnection? connection;
            lock (_lock)
            {
                if (!TryPop(loop, out connection))
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

    private bool TryPop(EpollLoop? loop, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out BackendConnection? connection)
    {
        if (loop is not null)
        {
            return _idle[loop.Index].TryPop(out connection);
        }
        if (_idle[^1].TryPop(out connection))
        {
            return true;
        }
        foreach (var idle in _idle)
        {
            if (idle.TryPop(out connection))
            {
                return true;
            }
        }
        return false;
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
                var connection = await EpollConnection.ConnectAsync(socket, address, EpollTransport.Pool, deadline.Token).ConfigureAwait(false);
                return new BackendConnection(connection, this, connection.LoopIndex);
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
        return new BackendConnection(Factory.Create(socket), this, EpollLoop.Count);
    }

    /// <summary>Puts a connection whose last response was read completely back for the next request.</summary>
    public void Return(BackendConnection connection)
    {
        connection.IdleSince = TimeProvider.System.GetTimestamp();
        var idle = _idle[connection.Loop];
        lock (_lock)
        {
            if (idle.Count < MaxIdle)
            {
                idle.Push(connection);
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
            foreach (var idle in _idle)
            {
                CloseExpired(idle, ref expired);
            }
        }
        if (expired is null)
        {
            return;
        }
        foreach (var connection in expired)
        {
            _ = connection.DisposeAsync();
        }
    }

    /// <summary>Takes the expired connections out of <paramref name="idle"/> into <paramref name="expired"/>, keeping the others in order.</summary>
    private static void CloseExpired(Stack<BackendConnection> idle, ref List<BackendConnection>? expired)
    {
        if (idle.Count == 0)
        {
            return;
        }
        var kept = new List<BackendConnection>(idle.Count);
        var any = false;
        // Oldest first, so the stack keeps its order when pushed back.
        foreach (var connection in idle.Reverse())
        {
            if (Elapsed(connection) < IdleTimeout && connection.LooksReusable())
            {
                kept.Add(connection);
            }
            else
            {
                (expired ??= []).Add(connection);
                any = true;
            }
        }
        if (!any)
        {
            return;
        }
        idle.Clear();
        foreach (var connection in kept)
        {
            idle.Push(connection);
        }
    }
}
