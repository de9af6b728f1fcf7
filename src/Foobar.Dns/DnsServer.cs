using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Foobar.Dns.Protocol;
using Microsoft.Extensions.Logging;

namespace Foobar.Dns;

/// <summary>
/// An authoritative DNS server for one <see cref="Zone"/> on one address: UDP, and TCP with the
/// two-byte length prefix (RFC 1035 §4.2.2). A malformed query gets FORMERR (or is dropped when it
/// cannot even carry an id); a TCP client that stalls is cut after <see cref="TcpTimeout"/>.
/// </summary>
public sealed partial class DnsServer(IPEndPoint endPoint, Zone zone, ILogger logger)
{
    /// <summary>How long a TCP client may take to send its query.</summary>
    public static readonly TimeSpan TcpTimeout = TimeSpan.FromSeconds(5);

    private long _answered;
    private long _malformed;

    /// <summary>Queries answered, errors included.</summary>
    public long Answered => Interlocked.Read(ref _answered);

    /// <summary>Messages that were not well-formed queries.</summary>
    public long Malformed => Interlocked.Read(ref _malformed);

    /// <summary>Binds both sockets (throws <see cref="SocketException"/> when the port is taken), then serves until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var udp = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        udp.Bind(endPoint);
        using var tcp = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        tcp.Bind(endPoint);
        tcp.Listen(64);
        await Task.WhenAll(ServeUdpAsync(udp, cancellationToken), ServeTcpAsync(tcp, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>The answer to one message, or null to drop it.</summary>
    public byte[]? Respond(ReadOnlySpan<byte> message)
    {
        var query = DnsQuery.Parse(message, out var id, out var error, out var reason);
        if (query is null)
        {
            Interlocked.Increment(ref _malformed);
            LogMalformed(logger, reason ?? "malformed");
            if (error is not { } rcode)
            {
                return null;
            }
            Interlocked.Increment(ref _answered);
            return DnsResponse.Error(id, rcode);
        }
        Interlocked.Increment(ref _answered);
        return zone.Answer(query);
    }

    private async Task ServeUdpAsync(Socket udp, CancellationToken cancellationToken)
    {
        var buffer = new byte[DnsResponse.MaxLength * 2];
        EndPoint any = new IPEndPoint(endPoint.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        while (!cancellationToken.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await udp.ReceiveFromAsync(buffer, SocketFlags.None, any, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException)
            {
                continue; // e.g. ICMP port unreachable from an earlier answer's client
            }
            if (Respond(buffer.AsSpan(0, received.ReceivedBytes)) is { } answer)
            {
                try
                {
                    await udp.SendToAsync(answer, SocketFlags.None, received.RemoteEndPoint, cancellationToken).ConfigureAwait(false);
                }
                catch (SocketException)
                {
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task ServeTcpAsync(Socket listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            _ = ServeTcpClientAsync(client, cancellationToken);
        }
    }

    /// <summary>Answers queries on one connection until it closes, stalls or sends something unanswerable.</summary>
    private async Task ServeTcpClientAsync(Socket client, CancellationToken cancellationToken)
    {
        using (client)
        {
            var length = new byte[2];
            var message = new byte[ushort.MaxValue];
            while (true)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TcpTimeout);
                try
                {
                    if (!await ReadExactlyAsync(client, length, timeout.Token).ConfigureAwait(false))
                    {
                        return;
                    }
                    var size = BinaryPrimitives.ReadUInt16BigEndian(length);
                    if (!await ReadExactlyAsync(client, message.AsMemory(0, size), timeout.Token).ConfigureAwait(false))
                    {
                        return;
                    }
                    if (Respond(message.AsSpan(0, size)) is not { } answer)
                    {
                        return;
                    }
                    var framed = new byte[answer.Length + 2];
                    BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)answer.Length);
                    answer.CopyTo(framed, 2);
                    await client.SendAsync(framed, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Fills <paramref name="buffer"/>; false when the connection closed first.</summary>
    private static async Task<bool> ReadExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer[read..], SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return false;
            }
            read += n;
        }
        return true;
    }

    [LoggerMessage(EventId = 3000, Level = LogLevel.Debug, Message = "Malformed DNS message: {Reason}")]
    private static partial void LogMalformed(ILogger logger, string reason);
}
