using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Foobar.Server.Pair;

/// <summary>
/// A load balancer's side of the pair's heartbeat: a thread of its own, blocked in <c>recvfrom</c>
/// on the admin address's UDP port, that answers each ping with this process's name, pid and
/// whether it holds the public address. Nothing else of the process stands between a ping and its
/// answer — no event loop, no thread pool, no HTTP — so a load balancer that is busy (its first
/// requests compiling, a loaded machine) still answers within milliseconds, and only a process
/// that is really frozen (or dead) goes silent. The standby's <see cref="StandbyWatch"/> asks.
/// </summary>
internal sealed partial class HeartbeatResponder : IDisposable
{
    private readonly Socket _socket;
    private readonly string _name;
    private readonly int _pid;
    private readonly Func<bool> _holds;
    private readonly ILogger _logger;
    private volatile bool _disposed;

    private HeartbeatResponder(Socket socket, string name, int pid, Func<bool> holds, ILogger logger)
    {
        _socket = socket;
        _name = name;
        _pid = pid;
        _holds = holds;
        _logger = logger;
    }

    /// <summary>The address and port it answers on.</summary>
    public IPEndPoint EndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>Binds <paramref name="endPoint"/> (UDP) and starts answering.</summary>
    /// <param name="endPoint">The admin address and port.</param>
    /// <param name="name">This load balancer's name.</param>
    /// <param name="pid">This process's id (the one a standby would fence).</param>
    /// <param name="holds">Whether this load balancer holds the public address now.</param>
    /// <param name="logger">Where a failure of the answering thread is logged.</param>
    /// <exception cref="InvalidOperationException">The port cannot be bound; the message says which and why.</exception>
    public static HeartbeatResponder Start(IPEndPoint endPoint, string name, int pid, Func<bool> holds, ILogger logger)
    {
        // The timeout only lets the thread see a Dispose: a close does not wake a blocked recvfrom.
        var socket = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 1000 };
        try
        {
            socket.Bind(endPoint);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new InvalidOperationException($"the pair's heartbeat cannot bind UDP {endPoint} ({e.Message}): another process uses the admin port's UDP side; free it or move admin.port", e);
        }
        var responder = new HeartbeatResponder(socket, name, pid, holds, logger);
        new Thread(responder.Run) { IsBackground = true, Name = "Foobar heartbeat" }.Start();
        return responder;
    }

    private void Run()
    {
        var datagram = new byte[Heartbeat.MaxLength + 1];
        var answer = new byte[Heartbeat.MaxLength];
        EndPoint from = new IPEndPoint(_socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!_disposed)
        {
            int length;
            try
            {
                length = _socket.ReceiveFrom(datagram, ref from);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock or SocketError.ConnectionReset or SocketError.MessageSize)
            {
                // Nothing for a second (look at _disposed again), an earlier answer's peer went
                // away (ICMP), or a datagram longer than any heartbeat: none is a ping.
                continue;
            }
            catch (SocketException e) when (!_disposed)
            {
                LogStopped(_logger, e.Message);
                return;
            }
            catch (SocketException)
            {
                return;
            }
            if (!Heartbeat.TryReadPing(datagram.AsSpan(0, length), out var nonce))
            {
                continue;
            }
            var written = Heartbeat.WritePong(new Heartbeat.Pong(nonce, _name, _pid, _holds()), answer);
            try
            {
                _socket.SendTo(answer.AsSpan(0, written), SocketFlags.None, from);
            }
            catch (SocketException)
            {
                // The asker is gone; the next one gets its answer.
            }
            catch (ObjectDisposedException)
            {
                return;
            }
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _socket.Dispose();
    }

    [LoggerMessage(EventId = 2104, Level = LogLevel.Error, Message = "The pair's heartbeat stopped answering: {Message}")]
    private static partial void LogStopped(ILogger logger, string message);
}
