using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Foobar.Http.Backends;
using Foobar.Http.LoadBalancing;
using Foobar.Http.ProxyProtocol;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Foobar.Http.Passthrough;

/// <summary>
/// Layer 4 load balancing (HAProxy's <c>mode tcp</c>): each client connection is passed to the
/// next backend of a pool as it is, its bytes copied both ways unread, behind a PROXY protocol v2
/// header (<see cref="ProxyHeader"/>) naming the client. What the load balancers do with HTTPS
/// when TLS ends at the web servers: they never hold the site's key or see the plaintext.
/// </summary>
/// <remarks>
/// The backend is chosen as for a request (balancing, health, drains, <c>maxconn</c> and the
/// queue), counted as one request for the whole connection. A backend that refuses or does not
/// accept within <see cref="ConnectTimeout"/> is marked down and the next is tried: nothing of the
/// client's has been sent yet, so that is always safe. With no backend left the client's
/// connection is closed. A connection with no bytes either way for <see cref="IdleTimeout"/> is
/// closed; a side that closes its sending half has it closed on the other.
/// </remarks>
public sealed partial class TcpPassthrough(BackendPool pool, ILogger logger)
{
    /// <summary>Time to open a connection to a backend. Default 2 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The address connections to backends come from: the load balancer's own, which is the one the
    /// backends trust a PROXY protocol header from. Null: whatever the kernel picks.
    /// </summary>
    public IPAddress? LocalAddress { get; init; }

    /// <summary>
    /// Whether each connection starts with a PROXY protocol header naming the client. Default
    /// true; false for backends that do not read one (a database behind a stable endpoint).
    /// </summary>
    public bool ProxyHeaders { get; init; } = true;

    /// <summary>How long a passed-through connection may carry nothing before it is closed. Default 50 s.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(50);

    /// <summary>Makes <paramref name="listen"/> pass its connections through instead of serving HTTP.</summary>
    public void Use(ListenOptions listen)
    {
        Http2PriorKnowledge.Skip(listen);
        listen.Use(_ => PassAsync);
    }

    private async Task PassAsync(ConnectionContext client)
    {
        if (client.RemoteEndPoint is not IPEndPoint remote || client.LocalEndPoint is not IPEndPoint local)
        {
            client.Abort(new ConnectionAbortedException("not a TCP connection"));
            return;
        }
        var tried = new List<Backend>(2);
        var key = new BalanceKey(remote.Address, "");
        Acquired acquired;
        while ((acquired = await pool.AcquireAsync(tried, key, client.ConnectionClosed).ConfigureAwait(false)).Backend is { } backend)
        {
            tried.Add(backend);
            try
            {
                if (await ConnectAsync(backend, client.ConnectionClosed).ConfigureAwait(false) is { } socket)
                {
                    backend.CountSuccess();
                    using (socket)
                    {
                        await RelayAsync(client, socket, ProxyHeaders ? ProxyHeader.Write(remote, local) : []).ConfigureAwait(false);
                    }
                    return;
                }
            }
            finally
            {
                pool.Release(backend);
            }
        }
        LogNoBackend(logger, remote, acquired.Refusal, tried.Count == 0 ? "none" : string.Join(", ", tried.Select(b => b.Name)));
        client.Abort(new ConnectionAbortedException("no server to pass the connection to"));
    }

    /// <summary>A connected socket, or null after marking <paramref name="backend"/> down.</summary>
    private async Task<Socket?> ConnectAsync(Backend backend, CancellationToken clientGone)
    {
        var endPoint = new IPEndPoint(IPAddress.Parse(backend.BaseUri.Host), backend.BaseUri.Port);
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (LocalAddress is not null)
        {
            socket.Bind(new IPEndPoint(LocalAddress, 0));
        }
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(clientGone);
        deadline.CancelAfter(ConnectTimeout);
        try
        {
            await socket.ConnectAsync(endPoint, deadline.Token).ConfigureAwait(false);
            return socket;
        }
        catch (Exception e) when (e is SocketException || (e is OperationCanceledException && !clientGone.IsCancellationRequested))
        {
            socket.Dispose();
            var why = e is SocketException ? e.Message : $"no connection within {ConnectTimeout.TotalSeconds:0.###} s";
            backend.CountFailure();
            backend.SetState(BackendState.Down, $"connection failed: {why}");
            backend.CountRetry();
            LogConnectFailed(logger, backend.Name, why);
            return null;
        }
        catch (OperationCanceledException)
        {
            socket.Dispose();
            return null;
        }
    }

    private async Task RelayAsync(ConnectionContext client, Socket backend, byte[] header)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(client.ConnectionClosed);
        idle.CancelAfter(IdleTimeout);
        try
        {
            if (header.Length > 0)
            {
                await backend.SendAsync(header, SocketFlags.None, idle.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return;
        }
        var toBackend = ToBackendAsync(client.Transport.Input, backend, idle);
        var toClient = ToClientAsync(backend, client.Transport.Output, idle);
        await Task.WhenAll(toBackend, toClient).ConfigureAwait(false);
    }

    /// <summary>The client's bytes to the backend; the client's end of sending becomes the backend's end of receiving.</summary>
    private async Task ToBackendAsync(PipeReader input, Socket backend, CancellationTokenSource idle)
    {
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(idle.Token).ConfigureAwait(false);
                foreach (var segment in result.Buffer)
                {
                    await backend.SendAsync(segment, SocketFlags.None, idle.Token).ConfigureAwait(false);
                }
                input.AdvanceTo(result.Buffer.End);
                idle.CancelAfter(IdleTimeout);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
            backend.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or ConnectionResetException or IOException)
        {
            await idle.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The backend's bytes to the client, until the backend closes; then the whole connection ends.</summary>
    private async Task ToClientAsync(Socket backend, PipeWriter output, CancellationTokenSource idle)
    {
        try
        {
            while (true)
            {
                var memory = output.GetMemory(16 * 1024);
                var read = await backend.ReceiveAsync(memory, SocketFlags.None, idle.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }
                output.Advance(read);
                var flushed = await output.FlushAsync(idle.Token).ConfigureAwait(false);
                idle.CancelAfter(IdleTimeout);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or ConnectionResetException or IOException)
        {
        }
        await output.CompleteAsync().ConfigureAwait(false);
        await idle.CancelAsync().ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 1300, Level = LogLevel.Warning, Message = "Passing a connection through to {Backend} failed: {Reason}")]
    private static partial void LogConnectFailed(ILogger logger, string backend, string reason);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Warning, Message = "Closed {Client}'s connection: no server to pass it to ({Refusal}; tried {Tried})")]
    private static partial void LogNoBackend(ILogger logger, IPEndPoint client, Refusal refusal, string tried);
}
