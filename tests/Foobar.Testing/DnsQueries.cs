using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Foobar.Testing;

/// <summary>Query messages as a resolver sends them, and a reader for the answers.</summary>
public static class DnsQueries
{
    public static byte[] For(string name, ushort type = 1, ushort id = 0x1234, ushort flags = 0x0100, ushort questions = 1)
    {
        var message = new List<byte>();
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(header, id);
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], flags);
        BinaryPrimitives.WriteUInt16BigEndian(header[4..], questions);
        message.AddRange(header.ToArray());
        foreach (var label in name.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            message.Add((byte)label.Length);
            message.AddRange(Encoding.ASCII.GetBytes(label));
        }
        message.Add(0);
        message.AddRange([(byte)(type >> 8), (byte)type, 0, 1]);
        return [.. message];
    }

    /// <summary>Asks <paramref name="server"/> over UDP for <paramref name="name"/>'s A records; throws when no answer comes within 5 s.</summary>
    public static async Task<Reply> AskAsync(System.Net.IPEndPoint server, string name)
    {
        using var udp = new System.Net.Sockets.UdpClient(server.AddressFamily);
        await udp.SendAsync(For(name), server);
        var received = await udp.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(5));
        return Read(received.Buffer);
    }

    public sealed record Reply(ushort Id, int Flags, int Rcode, int Questions, IReadOnlyList<IPAddress> Addresses, uint Ttl);

    public static Reply Read(byte[] answer)
    {
        var id = BinaryPrimitives.ReadUInt16BigEndian(answer);
        var flags = BinaryPrimitives.ReadUInt16BigEndian(answer.AsSpan(2));
        var questions = BinaryPrimitives.ReadUInt16BigEndian(answer.AsSpan(4));
        var count = BinaryPrimitives.ReadUInt16BigEndian(answer.AsSpan(6));
        var offset = 12;
        for (var q = 0; q < questions; q++)
        {
            while (answer[offset] != 0)
            {
                offset += answer[offset] + 1;
            }
            offset += 5;
        }
        var addresses = new List<IPAddress>();
        uint ttl = 0;
        for (var i = 0; i < count; i++)
        {
            ttl = BinaryPrimitives.ReadUInt32BigEndian(answer.AsSpan(offset + 6));
            addresses.Add(new IPAddress(answer.AsSpan(offset + 12, 4)));
            offset += 16;
        }
        return new Reply(id, flags, flags & 0xF, questions, addresses, ttl);
    }
}
