using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Foobar.Http.ProxyProtocol;

/// <summary>
/// The PROXY protocol's version 2 header (HAProxy's <c>send-proxy-v2</c>, nginx's
/// <c>proxy_protocol</c>): what a load balancer that passes a TCP connection through writes first,
/// so the server behind it learns the client's address. Binary, so it cannot be mistaken for
/// the TLS or HTTP that follows.
/// </summary>
/// <remarks>
/// Layout: the 12-byte signature, a version/command byte (0x21 PROXY, 0x20 LOCAL), a
/// family/transport byte (0x11 TCP over IPv4, 0x21 over IPv6), the length of the rest (big endian),
/// then source address, destination address, source port, destination port, and optional TLVs,
/// which are skipped.
/// </remarks>
public static class ProxyHeader
{
    /// <summary>The 12 bytes every version 2 header starts with.</summary>
    public static ReadOnlySpan<byte> Signature => [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    /// <summary>The most this side reads: the fixed part, IPv6 addresses and some TLVs. A longer header is refused.</summary>
    public const int MaxLength = 16 + 512;

    /// <summary>The header for a connection from <paramref name="source"/> to <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException">The two are of different address families.</exception>
    public static byte[] Write(IPEndPoint source, IPEndPoint destination)
    {
        var v4 = source.AddressFamily == AddressFamily.InterNetwork;
        if (source.AddressFamily != destination.AddressFamily)
        {
            throw new ArgumentException($"{source} and {destination} are of different address families", nameof(destination));
        }
        var addressLength = v4 ? 4 : 16;
        var header = new byte[16 + 2 * addressLength + 4];
        Signature.CopyTo(header);
        header[12] = 0x21;
        header[13] = v4 ? (byte)0x11 : (byte)0x21;
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(14), (ushort)(header.Length - 16));
        source.Address.TryWriteBytes(header.AsSpan(16, addressLength), out _);
        destination.Address.TryWriteBytes(header.AsSpan(16 + addressLength, addressLength), out _);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(16 + 2 * addressLength), (ushort)source.Port);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(18 + 2 * addressLength), (ushort)destination.Port);
        return header;
    }

    /// <summary>Whether <paramref name="buffer"/> could still be, or is, the start of a header: false as soon as one byte differs from the signature.</summary>
    public static bool MayStartWithHeader(ReadOnlySequence<byte> buffer)
    {
        Span<byte> head = stackalloc byte[12];
        var length = (int)Math.Min(buffer.Length, head.Length);
        buffer.Slice(0, length).CopyTo(head);
        return head[..length].SequenceEqual(Signature[..length]);
    }

    /// <summary>
    /// Reads a header from the start of <paramref name="buffer"/>, which begins with the signature.
    /// </summary>
    /// <param name="buffer">The bytes received so far.</param>
    /// <param name="length">The header's whole length, to consume; 0 when more bytes are needed.</param>
    /// <param name="source">The client's address and port; null for a LOCAL header (the proxy's own connection, a health check) or an address family other than TCP over IPv4/IPv6.</param>
    /// <param name="destination">The address the client connected to; null as <paramref name="source"/>.</param>
    /// <exception cref="InvalidDataException">Not a valid version 2 header; the message says what is wrong.</exception>
    public static void Parse(ReadOnlySequence<byte> buffer, out int length, out IPEndPoint? source, out IPEndPoint? destination)
    {
        length = 0;
        source = destination = null;
        if (buffer.Length < 16)
        {
            return;
        }
        Span<byte> fixedPart = stackalloc byte[16];
        buffer.Slice(0, 16).CopyTo(fixedPart);
        if (!fixedPart[..12].SequenceEqual(Signature))
        {
            throw new InvalidDataException("not a PROXY protocol v2 signature");
        }
        var version = fixedPart[12] >> 4;
        var command = fixedPart[12] & 0x0F;
        if (version != 2 || command > 1)
        {
            throw new InvalidDataException($"PROXY protocol version {version} command {command} (only version 2, LOCAL or PROXY, is understood)");
        }
        var rest = BinaryPrimitives.ReadUInt16BigEndian(fixedPart[14..]);
        if (16 + rest > MaxLength)
        {
            throw new InvalidDataException($"PROXY protocol header of {16 + rest} bytes, over the {MaxLength} accepted");
        }
        if (buffer.Length < 16 + rest)
        {
            return;
        }
        length = 16 + rest;
        var family = fixedPart[13];
        var addressLength = family switch
        {
            0x11 => 4,
            0x21 => 16,
            _ => 0,
        };
        if (command == 0 || addressLength == 0)
        {
            return;
        }
        if (rest < 2 * addressLength + 4)
        {
            throw new InvalidDataException($"PROXY protocol header too short for its addresses ({rest} bytes after the fixed part)");
        }
        Span<byte> addresses = stackalloc byte[2 * 16 + 4];
        buffer.Slice(16, 2 * addressLength + 4).CopyTo(addresses);
        var sourceAddress = new IPAddress(addresses[..addressLength]);
        var destinationAddress = new IPAddress(addresses.Slice(addressLength, addressLength));
        source = new IPEndPoint(sourceAddress, BinaryPrimitives.ReadUInt16BigEndian(addresses[(2 * addressLength)..]));
        destination = new IPEndPoint(destinationAddress, BinaryPrimitives.ReadUInt16BigEndian(addresses[(2 * addressLength + 2)..]));
    }
}
