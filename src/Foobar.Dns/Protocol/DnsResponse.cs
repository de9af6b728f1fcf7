using System.Buffers.Binary;
using System.Net;

namespace Foobar.Dns.Protocol;

/// <summary>Writes responses: the header, the question echoed, and A records.</summary>
public static class DnsResponse
{
    /// <summary>Largest response written; a UDP answer must fit in 512 bytes without EDNS (RFC 1035 §4.2.1).</summary>
    public const int MaxLength = 512;

    private const int RecordLength = 16;

    /// <summary>
    /// An authoritative answer to <paramref name="query"/>: <paramref name="rcode"/> and one A record
    /// per address (as many as fit), each with <paramref name="ttl"/>. Returns the bytes.
    /// </summary>
    public static byte[] Answer(DnsQuery query, DnsRcode rcode, IReadOnlyList<IPAddress> addresses, TimeSpan ttl)
    {
        var fit = Math.Min(addresses.Count, (MaxLength - 12 - query.Question.Length) / RecordLength);
        var message = new byte[12 + query.Question.Length + fit * RecordLength];
        WriteHeader(message, query.Id, query.RecursionDesired, rcode, questions: 1, answers: (ushort)fit);
        query.Question.CopyTo(message.AsSpan(12));
        var offset = 12 + query.Question.Length;
        for (var i = 0; i < fit; i++)
        {
            var record = message.AsSpan(offset, RecordLength);
            BinaryPrimitives.WriteUInt16BigEndian(record, 0xC00C);  // the name: a pointer to the question's
            BinaryPrimitives.WriteUInt16BigEndian(record[2..], DnsQuery.TypeA);
            BinaryPrimitives.WriteUInt16BigEndian(record[4..], DnsQuery.ClassIn);
            BinaryPrimitives.WriteUInt32BigEndian(record[6..], (uint)ttl.TotalSeconds);
            BinaryPrimitives.WriteUInt16BigEndian(record[10..], 4);
            addresses[i].TryWriteBytes(record[12..], out _);
            offset += RecordLength;
        }
        return message;
    }

    /// <summary>An error answer with no question: for queries whose question could not be read.</summary>
    public static byte[] Error(ushort id, DnsRcode rcode)
    {
        var message = new byte[12];
        WriteHeader(message, id, recursionDesired: false, rcode, questions: 0, answers: 0);
        return message;
    }

    private static void WriteHeader(Span<byte> message, ushort id, bool recursionDesired, DnsRcode rcode, ushort questions, ushort answers)
    {
        BinaryPrimitives.WriteUInt16BigEndian(message, id);
        // QR (a response), AA (authoritative), RD copied, RA clear (no recursion here), the code.
        var flags = 0x8000 | 0x0400 | (recursionDesired ? 0x0100 : 0) | (int)rcode;
        BinaryPrimitives.WriteUInt16BigEndian(message[2..], (ushort)flags);
        BinaryPrimitives.WriteUInt16BigEndian(message[4..], questions);
        BinaryPrimitives.WriteUInt16BigEndian(message[6..], answers);
        BinaryPrimitives.WriteUInt16BigEndian(message[8..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(message[10..], 0);
    }
}
