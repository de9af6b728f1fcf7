using System.Buffers.Binary;

namespace Foobar.MySql.Protocol.Serialization;

/// <summary>
/// Reads the basic types of the protocol from one payload
/// (https://mariadb.com/kb/en/protocol-data-types/). Reading past the end throws
/// <see cref="MySqlProtocolException"/>: a malformed packet is an error, never a crash.
/// </summary>
internal ref struct PayloadReader(ReadOnlySpan<byte> payload)
{
    private readonly ReadOnlySpan<byte> _payload = payload;

    public int Offset { get; set; }

    public readonly int Remaining => _payload.Length - Offset;

    public readonly byte Peek() => Remaining > 0 ? _payload[Offset] : throw Truncated(1);

    public byte ReadByte() => Take(1)[0];

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    public uint ReadUInt24()
    {
        var bytes = Take(3);
        return bytes[0] | ((uint)bytes[1] << 8) | ((uint)bytes[2] << 16);
    }

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    /// <summary>A length-encoded integer; 0xFB (NULL) is returned as <see cref="ulong.MaxValue"/>.</summary>
    public ulong ReadLengthEncodedInteger()
    {
        var first = ReadByte();
        return first switch
        {
            < 0xFB => first,
            0xFB => ulong.MaxValue,
            0xFC => ReadUInt16(),
            0xFD => ReadUInt24(),
            0xFE => ReadUInt64(),
            _ => throw new MySqlProtocolException($"invalid length-encoded integer prefix 0xFF at offset {Offset - 1}"),
        };
    }

    public ReadOnlySpan<byte> ReadLengthEncodedBytes()
    {
        var length = ReadLengthEncodedInteger();
        return length > (ulong)Remaining ? throw Truncated(length) : Take((int)length);
    }

    public string ReadLengthEncodedString() => System.Text.Encoding.UTF8.GetString(ReadLengthEncodedBytes());

    public ReadOnlySpan<byte> ReadNullTerminated()
    {
        var rest = _payload[Offset..];
        var end = rest.IndexOf((byte)0);
        if (end < 0)
        {
            throw new MySqlProtocolException($"missing NUL terminator after offset {Offset}");
        }
        Offset += end + 1;
        return rest[..end];
    }

    public string ReadNullTerminatedString() => System.Text.Encoding.UTF8.GetString(ReadNullTerminated());

    public ReadOnlySpan<byte> ReadRest() => Take(Remaining);

    public ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > Remaining)
        {
            throw Truncated((ulong)count);
        }
        var slice = _payload.Slice(Offset, count);
        Offset += count;
        return slice;
    }

    public void Skip(int count) => Take(count);

    private readonly MySqlProtocolException Truncated(ulong wanted) =>
        new($"packet truncated: needed {wanted} more bytes at offset {Offset}, {Remaining} left of {_payload.Length}");
}
