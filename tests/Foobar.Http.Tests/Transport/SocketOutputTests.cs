using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Security.Cryptography;
using Foobar.Http.Transport;
using Foobar.Testing;

namespace Foobar.Http.Tests.Transport;

/// <summary>
/// The connection's output (<c>SocketOutput</c>) against a real peer socket: bytes sent on the
/// flushing thread, the rest from the loop once the socket takes them, the writer held back at
/// 64 KB waiting, and the ends — complete, cancel, a reset.
/// </summary>
public class SocketOutputTests
{
    /// <summary>Small socket buffers: a few hundred KB fill them and the writer waits.</summary>
    private const int SmallBuffer = 16 * 1024;

    [Fact]
    public async Task ManyFlushes_ThePeerReadingOnlyOnceTheWriterWaits_ArriveWholeAndInOrder()
    {
        var (connection, peer) = await ConnectedPair.ConnectAsync(SmallBuffer);
        await using var _ = connection;
        using var __ = peer;
        var data = RandomBytes(4 << 20, seed: 1);
        var output = connection.Transport.Output;
        var writerWaited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var writing = Task.Run(async () =>
        {
            for (var at = 0; at < data.Length; at += 1000)
            {
                // Odd sizes: writes straddle the blocks.
                output.Write(data.AsSpan(at, Math.Min(1000, data.Length - at)));
                var flush = output.FlushAsync();
                if (!flush.IsCompleted)
                {
                    writerWaited.TrySetResult();
                }
                Assert.False((await flush).IsCompleted);
            }
        });
        await writerWaited.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var received = await ReceiveAsync(peer, data.Length);
        await writing.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(SHA256.HashData(data), SHA256.HashData(received));
    }

    [Fact]
    public async Task AFlushWaitingForThePeer_IsReleasedByCancelPendingFlush()
    {
        var (connection, peer) = await ConnectedPair.ConnectAsync(SmallBuffer);
        await using var _ = connection;
        using var __ = peer;
        var output = connection.Transport.Output;

        var waiting = await FillUntilAFlushWaitsAsync(output);
        output.CancelPendingFlush();

        var result = await waiting.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(result.IsCanceled);
        Assert.False(result.IsCompleted);
    }

    [Fact]
    public async Task AFlushWaitingForThePeer_EndsCompletedWhenTheConnectionIsAborted()
    {
        var (connection, peer) = await ConnectedPair.ConnectAsync(SmallBuffer);
        await using var _ = connection;
        using var __ = peer;

        var waiting = await FillUntilAFlushWaitsAsync(connection.Transport.Output);
        connection.Abort(new Microsoft.AspNetCore.Connections.ConnectionAbortedException("test"));

        Assert.True((await waiting.AsTask().WaitAsync(TimeSpan.FromSeconds(10))).IsCompleted);
    }

    [Fact]
    public async Task Complete_SendsWhatWasWrittenUnflushed_ThenThePeerReadsTheEnd()
    {
        var (connection, peer) = await ConnectedPair.ConnectAsync();
        await using var _ = connection;
        using var __ = peer;

        connection.Transport.Output.Write("last words"u8);
        await connection.Transport.Output.CompleteAsync();

        Assert.Equal("last words"u8.ToArray(), await ReceiveAsync(peer, 10));
        Assert.Equal(0, await peer.ReceiveAsync(new byte[1]).WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Complete_WhileBytesWaitForTheSocket_SendsThemAll_ThenTheEnd()
    {
        var (connection, peer) = await ConnectedPair.ConnectAsync(SmallBuffer);
        await using var _ = connection;
        using var __ = peer;
        var data = RandomBytes(1 << 20, seed: 2);
        var output = connection.Transport.Output;

        // Flushed without waiting for the flush: most of it still waits for the socket when the writer completes.
        var flushed = output.WriteAsync(data);
        await output.CompleteAsync();
        var received = await ReceiveAsync(peer, data.Length);

        Assert.Equal(SHA256.HashData(data), SHA256.HashData(received));
        Assert.Equal(0, await peer.ReceiveAsync(new byte[1]).WaitAsync(TimeSpan.FromSeconds(10)));
        await flushed;
    }

    [Fact]
    public async Task AfterThePeerResets_FlushesReportCompleted_AndTheInputEndsWithTheError()
    {
        var (connection, peer) = await ConnectedPair.ConnectAsync();
        await using var _ = connection;
        var output = connection.Transport.Output;
        // Unread bytes on close: the peer's kernel answers with a reset.
        output.Write("unread"u8);
        await output.FlushAsync();
        await Eventually.TrueAsync(() => peer.Available > 0, "the bytes reached the peer");
        peer.Close();

        await Eventually.TrueAsync(async () =>
        {
            output.Write(new byte[1024]);
            return (await output.FlushAsync()).IsCompleted;
        }, "a flush reports the connection completed");

        var input = connection.Transport.Input;
        ReadResult? read = null;
        var error = await Record.ExceptionAsync(async () => read = await input.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(error is Microsoft.AspNetCore.Connections.ConnectionResetException || read is { IsCompleted: true }, error?.ToString());
        await Eventually.TrueAsync(() => connection.ConnectionClosed.IsCancellationRequested, "ConnectionClosed fired");
    }

    [Fact]
    public async Task AFlushWithNothingWritten_CompletesAtOnce()
    {
        var (connection, peer) = await ConnectedPair.ConnectAsync();
        await using var _ = connection;
        using var __ = peer;

        var flush = connection.Transport.Output.FlushAsync();

        Assert.True(flush.IsCompletedSuccessfully);
        Assert.False((await flush).IsCompleted);
    }

    [Fact]
    public async Task UnownedBytes_GoAsTheyAre_BetweenOwnWrites_EvenWhenTheSocketIsFull()
    {
        var (connection, peer) = await ConnectedPair.ConnectAsync(SmallBuffer);
        await using var _ = connection;
        using var __ = peer;
        var body = RandomBytes(1 << 20, seed: 3);
        var output = (Foobar.Http.Transport.SocketOutput)connection.Transport.Output;
        var expected = new List<byte>();

        var writing = Task.Run(async () =>
        {
            for (var i = 0; i < 3; i++)
            {
                output.Write(System.Text.Encoding.ASCII.GetBytes($"head {i}\r\n"));
                output.WriteUnowned(body);
                output.Write("tail"u8);
                Assert.False((await output.FlushAsync()).IsCompleted);
            }
        });
        for (var i = 0; i < 3; i++)
        {
            expected.AddRange(System.Text.Encoding.ASCII.GetBytes($"head {i}\r\n"));
            expected.AddRange(body);
            expected.AddRange("tail"u8.ToArray());
        }
        var received = await ReceiveAsync(peer, expected.Count);
        await writing.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(SHA256.HashData(expected.ToArray()), SHA256.HashData(received));
        Assert.Equal(SHA256.HashData(RandomBytes(1 << 20, seed: 3)), SHA256.HashData(body));
    }

    [Fact]
    public async Task UnownedBytes_SentFirstAndAlone_AreNeverWrittenIntoByTheNextResponse()
    {
        var (connection, peer) = await ConnectedPair.ConnectAsync();
        await using var _ = connection;
        using var __ = peer;
        var body = "borrowed, not to be written into"u8.ToArray();
        var output = (Foobar.Http.Transport.SocketOutput)connection.Transport.Output;

        output.WriteUnowned(body);
        await output.FlushAsync();
        // All of it went: an own block would now be written again from its start.
        output.Write("the next response"u8);
        await output.FlushAsync();

        Assert.Equal("borrowed, not to be written intothe next response"u8.ToArray(), await ReceiveAsync(peer, body.Length + 17));
        Assert.Equal("borrowed, not to be written into"u8.ToArray(), body);
    }

    [Fact]
    public async Task ASealedFile_GoesWithSendfile_BetweenOwnWrites_EvenWhenTheSocketIsFull()
    {
        var (connection, peer) = await ConnectedPair.ConnectAsync(SmallBuffer);
        await using var _ = connection;
        using var __ = peer;
        var body = RandomBytes(1 << 20, seed: 4);
        var file = SealedFile.Create("test", body);
        Assert.NotNull(file);
        var output = (SocketOutput)connection.Transport.Output;
        var expected = new List<byte>();

        var writing = Task.Run(async () =>
        {
            for (var i = 0; i < 3; i++)
            {
                output.Write(System.Text.Encoding.ASCII.GetBytes($"head {i}\r\n"));
                output.WriteFile(file);
                // Twice in a row, and a block of the connection's own between the two heads.
                output.WriteFile(file);
                output.Write("tail"u8);
                Assert.False((await output.FlushAsync()).IsCompleted);
            }
        });
        for (var i = 0; i < 3; i++)
        {
            expected.AddRange(System.Text.Encoding.ASCII.GetBytes($"head {i}\r\n"));
            expected.AddRange(body);
            expected.AddRange(body);
            expected.AddRange("tail"u8.ToArray());
        }
        var received = await ReceiveAsync(peer, expected.Count);
        await writing.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(SHA256.HashData(expected.ToArray()), SHA256.HashData(received));
    }

    [Fact]
    public async Task ASealedFile_SentFirstAndAlone_IsFollowedByTheNextResponseWhole()
    {
        var (connection, peer) = await ConnectedPair.ConnectAsync();
        await using var _ = connection;
        using var __ = peer;
        var file = SealedFile.Create("test", "from the file"u8)!;
        var output = (SocketOutput)connection.Transport.Output;

        output.WriteFile(file);
        await output.FlushAsync();
        output.Write(", then the next response"u8);
        await output.FlushAsync();

        Assert.Equal("from the file, then the next response"u8.ToArray(), await ReceiveAsync(peer, 37));
    }

    [Fact]
    public async Task ASealedFile_ThePeerResettingWhileItWaits_EndsTheOutput_AndTheFileStaysWhole()
    {
        var (connection, peer) = await ConnectedPair.ConnectAsync(SmallBuffer);
        await using var _ = connection;
        var body = RandomBytes(4 << 20, seed: 5);
        var file = SealedFile.Create("test", body)!;
        var output = (SocketOutput)connection.Transport.Output;

        output.WriteFile(file);
        var flush = output.FlushAsync();
        Assert.False(flush.IsCompleted);
        peer.LingerState = new LingerOption(true, 0);
        peer.Dispose();

        Assert.True((await flush.AsTask().WaitAsync(TimeSpan.FromSeconds(30))).IsCompleted);
        var copy = new byte[body.Length];
        Assert.Equal(body.Length, RandomAccess.Read(file.Handle, copy, 0));
        Assert.Equal(body, copy);
    }

    [Fact]
    public void ASealedFile_CannotBeWrittenGrownOrShrunk()
    {
        var file = SealedFile.Create("test", "sealed"u8)!;

        Assert.Equal(6, file.Length);
        // EPERM from the seals (the runtime reports it as access denied).
        Assert.IsType<UnauthorizedAccessException>(Record.Exception(() => RandomAccess.Write(file.Handle, "SEALED"u8, 0)), exactMatch: false);
        Assert.IsType<UnauthorizedAccessException>(Record.Exception(() => RandomAccess.Write(file.Handle, "more"u8, 6)), exactMatch: false);
        Assert.IsType<UnauthorizedAccessException>(Record.Exception(() => RandomAccess.SetLength(file.Handle, 3)), exactMatch: false);
        var copy = new byte[6];
        RandomAccess.Read(file.Handle, copy, 0);
        Assert.Equal("sealed"u8.ToArray(), copy);
    }

    /// <summary>Writes 64 KB at a time without the peer reading until a flush has to wait; that flush.</summary>
    private static async Task<ValueTask<FlushResult>> FillUntilAFlushWaitsAsync(PipeWriter output)
    {
        var chunk = new byte[64 * 1024];
        for (var i = 0; i < 1000; i++)
        {
            output.Write(chunk);
            var flush = output.FlushAsync();
            if (!flush.IsCompleted)
            {
                return flush;
            }
            await flush;
        }
        throw new InvalidOperationException("64 MB went without a flush waiting: the writer is not held back");
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static async Task<byte[]> ReceiveAsync(Socket peer, int length)
    {
        var received = new byte[length];
        var have = 0;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (have < length)
        {
            var n = await peer.ReceiveAsync(received.AsMemory(have), deadline.Token);
            Assert.True(n > 0, $"the peer saw the end after {have} of {length} bytes");
            have += n;
        }
        return received;
    }
}
