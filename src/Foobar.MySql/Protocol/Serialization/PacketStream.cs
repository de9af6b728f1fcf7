using System.Buffers;
using System.Runtime.CompilerServices;
using Foobar.MySql.Protocol.Serialization;

namespace Foobar.MySql.Protocol.Serialization;

/// <summary>
/// Packet framing over a byte stream (https://mariadb.com/kb/en/0-packet/): 3-byte length,
/// 1-byte sequence number, payload; payloads of 16 MiB - 1 or more are split and joined.
/// </summary>
/// <remarks>
/// A payload returned by <see cref="ReadPayloadAsync"/> lives in this object's buffer and is valid
/// until the next read: the data reader parses a row in place instead of copying it.
/// </remarks>
internal sealed class PacketStream : IDisposable
{
    public const int MaxPacketPayload = 0xFF_FFFF;

    private Stream _stream;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(16384);
    private int _start;
    private int _end;
    private byte[]? _joined;

    public PacketStream(Stream stream, int maxPayload)
    {
        _stream = stream;
        MaxPayload = maxPayload;
    }

    /// <summary>The largest payload accepted from the server; larger is a protocol error, not an allocation.</summary>
    public int MaxPayload { get; }

    /// <summary>Next sequence number expected or sent.</summary>
    public byte Sequence { get; set; }

    /// <summary>Swaps the transport (after the TLS handshake); nothing may be buffered.</summary>
    public void ReplaceStream(Stream stream)
    {
        if (_end != _start)
        {
            throw new MySqlProtocolException("the server sent data before the TLS handshake");
        }
        _stream = stream;
    }

    public Stream Stream => _stream;

    /// <summary>
    /// Blocking I/O for the synchronous ADO.NET methods: reads and writes are the stream's
    /// synchronous calls, so on a socket that never saw an asynchronous operation each is one
    /// system call, as in a C client, instead of a wait on the runtime's event loop.
    /// </summary>
    public bool Blocking { get; set; }

    /// <summary>
    /// The next payload if a whole packet is already buffered: the hot path of reading rows, with no
    /// async machinery. False means call <see cref="ReadPayloadAsync"/>.
    /// </summary>
    public bool TryReadBuffered(out ReadOnlyMemory<byte> payload)
    {
        payload = default;
        var available = _end - _start;
        if (available < 4)
        {
            return false;
        }
        var length = _buffer[_start] | (_buffer[_start + 1] << 8) | (_buffer[_start + 2] << 16);
        if (length >= MaxPacketPayload || available - 4 < length)
        {
            return false;
        }
        if (_buffer[_start + 3] != Sequence)
        {
            throw new MySqlProtocolException($"packet out of order: sequence {_buffer[_start + 3]}, expected {Sequence}");
        }
        if (length > MaxPayload)
        {
            throw new MySqlProtocolException($"packet of {length} bytes is larger than the {MaxPayload} bytes allowed (max_allowed_packet)");
        }
        Sequence++;
        _start += 4 + length;
        payload = _buffer.AsMemory(_start - length, length);
        return true;
    }

    public ValueTask<ReadOnlyMemory<byte>> ReadPayloadAsync(CancellationToken cancellationToken) =>
        TryReadBuffered(out var payload) ? new(payload) : ReadPayloadSlowAsync(cancellationToken);

    /// <summary>One async method for the whole wait, so a pending read suspends one state machine (from the pool), not one per layer.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadOnlyMemory<byte>> ReadPayloadSlowAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        while (true)
        {
            await FillAsync(4, cancellationToken).ConfigureAwait(false);
            var length = _buffer[_start] | (_buffer[_start + 1] << 8) | (_buffer[_start + 2] << 16);
            var sequence = _buffer[_start + 3];
            if (sequence != Sequence)
            {
                throw new MySqlProtocolException($"packet out of order: sequence {sequence}, expected {Sequence}");
            }
            if (length > MaxPayload || total + length > MaxPayload)
            {
                throw new MySqlProtocolException($"packet of {total + length} bytes is larger than the {MaxPayload} bytes allowed (max_allowed_packet)");
            }
            Sequence++;
            _start += 4;
            await FillAsync(length, cancellationToken).ConfigureAwait(false);
            _start += length;
            if (total == 0 && length < MaxPacketPayload)
            {
                return _buffer.AsMemory(_start - length, length);
            }
            // A payload of 16 MiB or more arrives in several packets; join them.
            _joined ??= [];
            if (_joined.Length < total + length)
            {
                Array.Resize(ref _joined, Math.Max(_joined.Length * 2, total + length));
            }
            _buffer.AsSpan(_start - length, length).CopyTo(_joined.AsSpan(total));
            total += length;
            if (length < MaxPacketPayload)
            {
                return _joined.AsMemory(0, total);
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="before"/> (whole packets of commands of their own) and then
    /// <paramref name="payload"/>'s packet in one write, so that the server reads them together.
    /// </summary>
    public async ValueTask WriteAsync(PayloadWriter payload, ReadOnlyMemory<byte> before, CancellationToken cancellationToken)
    {
        if (payload.PayloadLength >= MaxPacketPayload)
        {
            await WriteBytesAsync(before, cancellationToken).ConfigureAwait(false);
            await WriteAsync(payload, cancellationToken).ConfigureAwait(false);
            return;
        }
        var buffer = payload.Buffer;
        WriteHeader(buffer.AsSpan(), payload.PayloadLength);
        var joined = ArrayPool<byte>.Shared.Rent(before.Length + buffer.Count);
        try
        {
            before.Span.CopyTo(joined);
            buffer.AsSpan().CopyTo(joined.AsSpan(before.Length));
            await WriteBytesAsync(joined.AsMemory(0, before.Length + buffer.Count), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(joined);
        }
    }

    private async ValueTask WriteBytesAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        if (Blocking)
        {
            _stream.Write(bytes.Span);
            _stream.Flush();
            return;
        }
        await _stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes <paramref name="payload"/>'s packet(s), filling the header room it reserved.</summary>
    public async ValueTask WriteAsync(PayloadWriter payload, CancellationToken cancellationToken)
    {
        var buffer = payload.Buffer;
        var length = payload.PayloadLength;
        if (length < MaxPacketPayload)
        {
            WriteHeader(buffer.AsSpan(), length);
            if (Blocking)
            {
                _stream.Write(buffer.AsSpan());
            }
            else
            {
                await _stream.WriteAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            var header = new byte[4];
            var offset = PayloadWriter.HeaderLength;
            while (true)
            {
                var chunk = Math.Min(MaxPacketPayload, buffer.Count - offset);
                WriteHeader(header, chunk);
                if (Blocking)
                {
                    _stream.Write(header);
                    _stream.Write(buffer.AsSpan(offset, chunk));
                }
                else
                {
                    await _stream.WriteAsync(header, cancellationToken).ConfigureAwait(false);
                    await _stream.WriteAsync(buffer.AsMemory(offset, chunk), cancellationToken).ConfigureAwait(false);
                }
                offset += chunk;
                if (chunk < MaxPacketPayload)
                {
                    break;
                }
            }
        }
        if (Blocking)
        {
            _stream.Flush();
            return;
        }
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private void WriteHeader(Span<byte> header, int length)
    {
        header[0] = (byte)length;
        header[1] = (byte)(length >> 8);
        header[2] = (byte)(length >> 16);
        header[3] = Sequence++;
    }

    /// <summary>Ensures <paramref name="count"/> bytes are buffered from <see cref="_start"/>.</summary>
    private ValueTask FillAsync(int count, CancellationToken cancellationToken) =>
        _end - _start >= count ? ValueTask.CompletedTask : FillSlowAsync(count, cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FillSlowAsync(int count, CancellationToken cancellationToken)
    {
        if (_buffer.Length - _start < count)
        {
            // Compact, or grow when the packet is larger than the buffer.
            var target = _buffer.Length >= count ? _buffer : ArrayPool<byte>.Shared.Rent(count);
            _buffer.AsSpan(_start, _end - _start).CopyTo(target);
            if (!ReferenceEquals(target, _buffer))
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = target;
            }
            _end -= _start;
            _start = 0;
        }
        while (_end - _start < count)
        {
            var read = Blocking ? _stream.Read(_buffer.AsSpan(_end)) : await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new MySqlException(MySqlErrorCode.ConnectionLost, "08S01",
                    $"the server closed the connection ({_end - _start} of {count} expected bytes received)", isTransient: true);
            }
            _end += read;
        }
    }

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
        _stream.Dispose();
    }
}
