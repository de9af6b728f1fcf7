using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace Foobar.Http.Forwarder.Http1;

/// <summary>
/// One keep-alive HTTP/1.1 connection to a backend, on Kestrel's socket transport (pipelines,
/// socket completions run inline). Used by one request at a time; between requests it waits in
/// its <see cref="BackendConnections"/>.
/// </summary>
internal sealed class BackendConnection(ConnectionContext connection, BackendConnections owner, int loop) : IAsyncDisposable
{
    /// <summary>The event loop its events are handled on (<see cref="Transport.EpollLoop.Index"/>); <see cref="Transport.EpollLoop.Count"/> when on none.</summary>
    public int Loop => loop;

    /// <summary>Bytes from the backend.</summary>
    public PipeReader Input => connection.Transport.Input;

    /// <summary>Bytes to the backend.</summary>
    public PipeWriter Output => connection.Transport.Output;

    /// <summary>The pool it returns to.</summary>
    public BackendConnections Owner => owner;

    /// <summary>Requests sent on it so far; a reused connection may have been closed by the backend meanwhile.</summary>
    public int Requests { get; set; }

    /// <summary>When it was last put back (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public long IdleSince { get; set; }

    /// <summary>The head of the response being read, reused for every request on this connection.</summary>
    public ResponseHead Head { get; } = new();

    /// <summary>
    /// False when the backend closed the connection or sent bytes nobody asked for while it was
    /// idle: then it must not carry another request. Never waits.
    /// </summary>
    public bool LooksReusable()
    {
        if (!Input.TryRead(out var result))
        {
            return true;
        }
        Input.AdvanceTo(result.Buffer.Start);
        return false;
    }

    /// <summary>Closes the socket (the transport shuts it down once its writes are done).</summary>
    public ValueTask DisposeAsync() => connection.DisposeAsync();
}
