using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Foobar.MySql.Protocol.Serialization;

/// <summary>
/// Builds one payload in a pooled buffer, leaving room for the 4-byte packet header in front so
/// header and payload go out in one write.
/// </summary>
internal sealed class PayloadWriter : IDisposable
{
    public const int HeaderLength = 4;

    private byte[] _buffer;
    private int _length = HeaderLength;

    public PayloadWriter(int capacity = 256)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(capacity + HeaderLength);
    }

    public int PayloadLength => _length - HeaderLength;

    /// <summary>The buffer with header room and payload; valid until the next write.</summary>
    public ArraySegment<byte> Buffer => new(_buffer, 0, _length);

    public ReadOnlySpan<byte> Payload => _buffer.AsSpan(HeaderLength, PayloadLength);

    public void Clear() => _length = HeaderLength;

    public void Write(byte value) => Span(1)[0] = value;

    public void Write(ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Span(2), value);

    public void Write(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Span(4), value);

    public void Write(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Span(8), value);

    public void Write(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Span(bytes.Length));

    public void WriteZeros(int count) => Span(count).Clear();

    /// <summary>UTF-8 text, no length or terminator.</summary>
    public void Write(ReadOnlySpan<char> text)
    {
        var span = Span(Encoding.UTF8.GetMaxByteCount(text.Length));
        var written = Encoding.UTF8.GetBytes(text, span);
        _length -= span.Length - written;
    }

    public void WriteNullTerminated(string text)
    {
        Write(text.AsSpan());
        Write((byte)0);
    }

    public void WriteLengthEncoded(ulong value)
    {
        switch (value)
        {
            case < 0xFB:
                Write((byte)value);
                break;
            case <= 0xFFFF:
                Write((byte)0xFC);
                Write((ushort)value);
                break;
            case <= 0xFF_FFFF:
                Write((byte)0xFD);
                Write((ushort)value);
                Write((byte)(value >> 16));
                break;
            default:
                Write((byte)0xFE);
                Write(value);
                break;
        }
    }

    public void WriteLengthEncoded(ReadOnlySpan<byte> bytes)
    {
        WriteLengthEncoded((ulong)bytes.Length);
        Write(bytes);
    }

    public void WriteLengthEncoded(string text) => WriteLengthEncoded(Encoding.UTF8.GetBytes(text));

    /// <summary>Room for <paramref name="count"/> bytes at the end, growing the buffer when needed.</summary>
    public Span<byte> Span(int count)
    {
        if (_length + count > _buffer.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + count));
            _buffer.AsSpan(0, _length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }
}
