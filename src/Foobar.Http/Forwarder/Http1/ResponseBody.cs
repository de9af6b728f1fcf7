using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Foobar.Http.Async;

namespace Foobar.Http.Forwarder.Http1;

/// <summary>
/// Copies a backend response's body from its connection to the client's response, as it
/// arrives. A chunked body is decoded (Kestrel frames it again for the client's protocol), or
/// framed again here for a client connection written directly; trailers are dropped, as HTTP/1.1
/// clients cannot receive them from Kestrel.
/// </summary>
internal static class ResponseBody
{
    /// <summary>The longest chunk-size line or trailer line accepted.</summary>
    private const int MaxLine = 4096;

    /// <summary>
    /// Copies the body <paramref name="head"/> announced. True when it was read to its end and the
    /// connection may carry another request; false when the client went away (the connection is
    /// mid-body) or the body ended with the connection.
    /// </summary>
    /// <param name="input">The backend connection, at the body's start.</param>
    /// <param name="head">The response head, which says how the body ends.</param>
    /// <param name="output">Where the body goes.</param>
    /// <param name="aborted">The client went away.</param>
    /// <param name="chunked">Whether a chunked body goes on chunked (the output is the client's connection itself) rather than decoded.</param>
    /// <exception cref="HttpRequestException">The backend broke off or broke the framing.</exception>
    public static ValueTask<bool> CopyAsync(PipeReader input, ResponseHead head, PipeWriter output, CancellationToken aborted, bool chunked = false) => head.Framing switch
    {
        BodyFraming.None => ValueTask.FromResult(true),
        BodyFraming.ContentLength => CopyLengthAsync(input, head.ContentLength, output, aborted),
        BodyFraming.Chunked => CopyChunkedAsync(input, output, aborted, chunked),
        _ => CopyUntilCloseAsync(input, output, aborted),
    };

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private static async ValueTask<bool> CopyLengthAsync(PipeReader input, long remaining, PipeWriter output, CancellationToken aborted)
    {
        while (remaining > 0)
        {
            var result = await input.ReadAsync(aborted).ConfigureAwait(false);
            var buffer = result.Buffer;
            var take = buffer.Length <= remaining ? buffer : buffer.Slice(0, remaining);
            Write(output, take);
            remaining -= take.Length;
            input.AdvanceTo(take.End);
            if (remaining == 0)
            {
                // Kestrel sends what is buffered when the request ends: one write for a small response.
                return true;
            }
            if (result.IsCompleted)
            {
                throw Ended($"closed the connection {remaining} bytes before the end of the body");
            }
            if (await output.FlushAsync(aborted).ConfigureAwait(false) is { IsCompleted: true } or { IsCanceled: true })
            {
                return false;
            }
        }
        return true;
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private static async ValueTask<bool> CopyUntilCloseAsync(PipeReader input, PipeWriter output, CancellationToken aborted)
    {
        while (true)
        {
            var result = await input.ReadAsync(aborted).ConfigureAwait(false);
            Write(output, result.Buffer);
            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return false;
            }
            if (await output.FlushAsync(aborted).ConfigureAwait(false) is { IsCompleted: true } or { IsCanceled: true })
            {
                return false;
            }
        }
    }

    private enum ChunkState
    {
        Size,
        Data,
        DataEnd,
        Trailers,
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private static async ValueTask<bool> CopyChunkedAsync(PipeReader input, PipeWriter output, CancellationToken aborted, bool chunked)
    {
        var state = ChunkState.Size;
        long left = 0;
        while (true)
        {
            var result = await input.ReadAsync(aborted).ConfigureAwait(false);
            var reader = new SequenceReader<byte>(result.Buffer);
            var wrote = false;
            var done = false;
            while (!done)
            {
                switch (state)
                {
                    case ChunkState.Size:
                        if (!TryReadLine(ref reader, out var sizeLine))
                        {
                            done = true;
                            break;
                        }
                        left = ParseChunkSize(sizeLine);
                        state = left == 0 ? ChunkState.Trailers : ChunkState.Data;
                        break;
                    case ChunkState.Data:
                        var take = Math.Min(reader.Remaining, left);
                        if (take == 0)
                        {
                            done = true;
                            break;
                        }
                        if (chunked)
                        {
                            WriteChunkSize(output, take);
                        }
                        Write(output, reader.UnreadSequence.Slice(0, take));
                        if (chunked)
                        {
                            output.Write("\r\n"u8);
                        }
                        reader.Advance(take);
                        wrote = true;
                        left -= take;
                        if (left == 0)
                        {
                            state = ChunkState.DataEnd;
                        }
                        break;
                    case ChunkState.DataEnd:
                        if (reader.Remaining < 2)
                        {
                            done = true;
                            break;
                        }
                        if (!reader.IsNext("\r\n"u8, advancePast: true))
                        {
                            throw Invalid("a chunk not followed by CRLF");
                        }
                        state = ChunkState.Size;
                        break;
                    case ChunkState.Trailers:
                        if (!TryReadLine(ref reader, out var trailer))
                        {
                            done = true;
                            break;
                        }
                        if (trailer.IsEmpty)
                        {
                            if (chunked)
                            {
                                output.Write("0\r\n\r\n"u8);
                            }
                            input.AdvanceTo(reader.Position);
                            return true;
                        }
                        break;
                }
            }
            input.AdvanceTo(reader.Position, result.Buffer.End);
            if (result.IsCompleted)
            {
                throw Ended("closed the connection in the middle of a chunked body");
            }
            if (wrote && await output.FlushAsync(aborted).ConfigureAwait(false) is { IsCompleted: true } or { IsCanceled: true })
            {
                return false;
            }
        }
    }

    private static bool TryReadLine(ref SequenceReader<byte> reader, out ReadOnlySequence<byte> line)
    {
        if (reader.TryReadTo(out line, "\r\n"u8, advancePastDelimiter: true))
        {
            return line.Length <= MaxLine ? true : throw Invalid("a chunk-size or trailer line longer than 4 KB");
        }
        return reader.Remaining <= MaxLine ? false : throw Invalid("a chunk-size or trailer line longer than 4 KB");
    }

    /// <summary>Hex digits, then optionally <c>;extensions</c>, which are ignored.</summary>
    private static long ParseChunkSize(ReadOnlySequence<byte> line)
    {
        Span<byte> bytes = stackalloc byte[(int)Math.Min(line.Length, 64)];
        line.Slice(0, bytes.Length).CopyTo(bytes);
        var extension = bytes.IndexOf((byte)';');
        var digits = (extension < 0 ? bytes : bytes[..extension]).TrimEnd(" \t"u8);
        if (digits.IsEmpty || digits.Length > 15 || !long.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var size))
        {
            throw Invalid("an invalid chunk size");
        }
        return size;
    }

    private static void WriteChunkSize(PipeWriter output, long size)
    {
        var span = output.GetSpan(18);
        size.TryFormat(span, out var written, "x", CultureInfo.InvariantCulture);
        "\r\n"u8.CopyTo(span[written..]);
        output.Advance(written + 2);
    }

    private static void Write(PipeWriter output, ReadOnlySequence<byte> bytes)
    {
        foreach (var segment in bytes)
        {
            output.Write(segment.Span);
        }
    }

    private static HttpRequestException Invalid(string what) => new(HttpRequestError.InvalidResponse, $"The backend sent {what}.");

    private static HttpRequestException Ended(string what) => new(HttpRequestError.ResponseEnded, $"The backend {what}.");
}
