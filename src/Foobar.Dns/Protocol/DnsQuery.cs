using System.Buffers.Binary;
using System.Text;

namespace Foobar.Dns.Protocol;

/// <summary>A query's header and its one question (RFC 1035 §4.1), as far as an authoritative server needs them.</summary>
/// <param name="Id">Copied into the response.</param>
/// <param name="RecursionDesired">Copied into the response.</param>
/// <param name="Name">The question's name, lower case, without the final dot.</param>
/// <param name="Type">QTYPE: 1 for A, 28 for AAAA, 255 for ANY ...</param>
/// <param name="Class">QCLASS: 1 for IN.</param>
/// <param name="Question">The question section as received (name, type, class), echoed in the response.</param>
public sealed record DnsQuery(ushort Id, bool RecursionDesired, string Name, ushort Type, ushort Class, byte[] Question)
{
    /// <summary>Type A: an IPv4 address.</summary>
    public const ushort TypeA = 1;

    /// <summary>Type ANY.</summary>
    public const ushort TypeAny = 255;

    /// <summary>Class IN.</summary>
    public const ushort ClassIn = 1;

    /// <summary>Class ANY.</summary>
    public const ushort ClassAny = 255;

    /// <summary>Longest name in its wire form (RFC 1035 §2.3.4).</summary>
    public const int MaxNameLength = 255;

    /// <summary>
    /// Reads a query. Null with <paramref name="error"/> set when the message is malformed or not a
    /// standard query: <see cref="DnsRcode.FormatError"/> or <see cref="DnsRcode.NotImplemented"/>, to be
    /// answered with <paramref name="id"/>; null with <paramref name="error"/> null when it must be
    /// dropped unanswered (too short to carry an id, or a response, which answering could loop).
    /// </summary>
    public static DnsQuery? Parse(ReadOnlySpan<byte> message, out ushort id, out DnsRcode? error, out string? reason)
    {
        id = 0;
        error = null;
        reason = null;
        if (message.Length < 12)
        {
            reason = $"{message.Length} bytes: shorter than a DNS header";
            return null;
        }
        id = BinaryPrimitives.ReadUInt16BigEndian(message);
        var flags = BinaryPrimitives.ReadUInt16BigEndian(message[2..]);
        if ((flags & 0x8000) != 0)
        {
            reason = "a response, not a query";
            return null;
        }
        if (((flags >> 11) & 0xF) != 0)
        {
            (error, reason) = (DnsRcode.NotImplemented, $"opcode {(flags >> 11) & 0xF}: only standard queries are answered");
            return null;
        }
        var questions = BinaryPrimitives.ReadUInt16BigEndian(message[4..]);
        if (questions != 1)
        {
            (error, reason) = (DnsRcode.FormatError, $"{questions} questions: exactly one is answered");
            return null;
        }
        var offset = 12;
        var name = new StringBuilder();
        while (true)
        {
            if (offset >= message.Length)
            {
                (error, reason) = (DnsRcode.FormatError, "the question's name runs past the end of the message");
                return null;
            }
            var length = message[offset];
            if ((length & 0xC0) != 0)
            {
                (error, reason) = (DnsRcode.FormatError, "a compressed or extended label in the question");
                return null;
            }
            offset++;
            if (length == 0)
            {
                break;
            }
            if (offset + length > message.Length)
            {
                (error, reason) = (DnsRcode.FormatError, "a label runs past the end of the message");
                return null;
            }
            if (offset - 12 + length >= MaxNameLength)
            {
                (error, reason) = (DnsRcode.FormatError, $"the name is longer than {MaxNameLength} bytes");
                return null;
            }
            if (name.Length > 0)
            {
                name.Append('.');
            }
            foreach (var b in message.Slice(offset, length))
            {
                name.Append(b is >= (byte)'A' and <= (byte)'Z' ? (char)(b + 32) : (char)b);
            }
            offset += length;
        }
        if (offset + 4 > message.Length)
        {
            (error, reason) = (DnsRcode.FormatError, "the question has no type and class");
            return null;
        }
        var type = BinaryPrimitives.ReadUInt16BigEndian(message[offset..]);
        var @class = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 2)..]);
        return new DnsQuery(id, (flags & 0x0100) != 0, name.ToString(), type, @class, message[12..(offset + 4)].ToArray());
    }
}
