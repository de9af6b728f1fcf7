using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Foobar.Http.Transport;
using Microsoft.AspNetCore.Connections;

namespace Foobar.Http.Tests.Transport;

/// <summary>
/// The connection's input (<c>SocketInput</c>) on its own, the test playing the loop's thread:
/// reads that wait and continue when bytes come, examined against consumed, blocks rewound and
/// returned, the pause at 1 MB, cancellation and the ends. Real sockets: <see cref="EpollTransportTests"/>.
/// </summary>
public class SocketInputTests
{
    private readonly CountingPool _pool = new();
    private int _resumes;

    private SocketInput NewInput() => new(_pool, () => Interlocked.Increment(ref _resumes));

    [Fact]
    public async Task BytesReceivedBeforeARead_AreReadAtOnce_AndAReadOfEverythingExaminedWaitsForMore()
    {
        var input = NewInput();
        Receive(input, "GET / HTTP/1.1\r\n");

        var first = input.ReadAsync();
        Assert.True(first.IsCompleted);
        var result = await first;
        Assert.Equal("GET / HTTP/1.1\r\n", Text(result.Buffer));
        // Nothing consumed, everything examined: the next read waits for more.
        input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        var second = input.ReadAsync();
        Assert.False(second.IsCompleted);

        Receive(input, "Host: a\r\n\r\n");
        Assert.True(second.IsCompleted);
        Assert.Equal("GET / HTTP/1.1\r\nHost: a\r\n\r\n", Text((await second).Buffer));
    }

    [Fact]
    public async Task PartOfWhatWasRead_Consumed_TheRestIsReadAgainWithoutWaiting()
    {
        var input = NewInput();
        Receive(input, "first|second");
        var result = await input.ReadAsync();

        input.AdvanceTo(result.Buffer.GetPosition(6));
        var again = input.ReadAsync();

        Assert.True(again.IsCompleted);
        Assert.Equal("second", Text((await again).Buffer));
    }

    [Fact]
    public async Task EverythingConsumed_TheNextReceiveReusesTheSameBlock()
    {
        var input = NewInput();
        for (var i = 0; i < 100; i++)
        {
            Receive(input, $"request {i}");
            var result = await input.ReadAsync();
            Assert.Equal($"request {i}", Text(result.Buffer));
            input.AdvanceTo(result.Buffer.End);
        }

        Assert.Equal(1, _pool.Rented);
        input.Complete();
        Assert.Equal(0, _pool.Outstanding);
    }

    [Fact]
    public async Task MoreThanABlock_SpansBlocks_WhichGoBackToThePoolAsTheyAreConsumed()
    {
        var input = NewInput();
        var data = new byte[20_000];
        Random.Shared.NextBytes(data);
        for (var at = 0; at < data.Length;)
        {
            var memory = input.GetReceiveMemory();
            var count = Math.Min(memory.Length, data.Length - at);
            data.AsSpan(at, count).CopyTo(memory.Span);
            Assert.Equal(SocketInput.ReceiveOutcome.Continue, input.Received(count));
            at += count;
        }

        var result = await input.ReadAsync();
        Assert.False(result.Buffer.IsSingleSegment);
        Assert.Equal(data, result.Buffer.ToArray());
        Assert.True(_pool.Outstanding >= 5);
        // Consumed up to somewhere in the last block: only that one is still held.
        input.AdvanceTo(result.Buffer.GetPosition(19_999));
        Assert.Equal(1, _pool.Outstanding);
        var rest = await input.ReadAsync();
        Assert.Equal(data[^1], rest.Buffer.FirstSpan[0]);
        Assert.Equal(1, rest.Buffer.Length);
    }

    [Fact]
    public async Task AReaderBehindByAMegabyte_PausesReceiving_UntilItConsumedHalf()
    {
        var input = NewInput();
        var outcome = SocketInput.ReceiveOutcome.Continue;
        long received = 0;
        while (outcome == SocketInput.ReceiveOutcome.Continue)
        {
            var memory = input.GetReceiveMemory();
            outcome = input.Received(memory.Length);
            received += memory.Length;
        }
        Assert.Equal(SocketInput.ReceiveOutcome.Pause, outcome);
        Assert.True(input.IsPaused);
        Assert.True(received >= SocketInput.MaxBuffered);

        var result = await input.ReadAsync();
        input.AdvanceTo(result.Buffer.GetPosition(received / 4));
        Assert.True(input.IsPaused);
        Assert.Equal(0, _resumes);
        result = await input.ReadAsync();
        input.AdvanceTo(result.Buffer.GetPosition(received / 2));

        Assert.False(input.IsPaused);
        Assert.Equal(1, _resumes);
    }

    [Fact]
    public async Task CancelPendingRead_EndsAWaitingRead_AndOtherwiseTheNextOne_AsCanceled()
    {
        var input = NewInput();
        var waiting = input.ReadAsync();
        input.CancelPendingRead();
        Assert.True((await waiting).IsCanceled);

        input.CancelPendingRead();
        var next = await input.ReadAsync();
        Assert.True(next.IsCanceled);
        input.AdvanceTo(next.Buffer.End);
        Assert.False(input.ReadAsync().IsCompleted);
    }

    [Fact]
    public async Task ACancelledToken_EndsAWaitingRead_AndReadingGoesOn()
    {
        var input = NewInput();
        using var cancel = new CancellationTokenSource();
        var waiting = input.ReadAsync(cancel.Token);
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiting);
        Receive(input, "after");
        Assert.Equal("after", Text((await input.ReadAsync()).Buffer));
    }

    [Fact]
    public async Task TheInputEnded_WhatWasLeftIsRead_ThenCompleted()
    {
        var input = NewInput();
        var waiting = input.ReadAsync();
        Receive(input, "last");
        var result = await waiting;
        input.AdvanceTo(result.Buffer.Start, result.Buffer.End);

        var next = input.ReadAsync();
        input.EndInput(null);

        result = await next;
        Assert.True(result.IsCompleted);
        Assert.Equal("last", Text(result.Buffer));
    }

    [Fact]
    public async Task TheInputEndedByAReset_TheReadThrowsTheResetItself()
    {
        var input = NewInput();
        var waiting = input.ReadAsync();
        var reset = new ConnectionResetException("reset by peer");

        input.EndInput(reset);

        Assert.Same(reset, await Assert.ThrowsAsync<ConnectionResetException>(async () => await waiting));
        Assert.Same(reset, await Assert.ThrowsAsync<ConnectionResetException>(async () => await input.ReadAsync()));
    }

    [Fact]
    public async Task TheInputEndedWithNothingUnread_TheEmptyResultsPositionsCanBeGivenBack()
    {
        var input = NewInput();
        Receive(input, "all");
        var result = await input.ReadAsync();
        input.AdvanceTo(result.Buffer.End);
        input.EndInput(null);

        Assert.True(input.TryRead(out var ended));
        Assert.True(ended.IsCompleted);
        Assert.True(ended.Buffer.IsEmpty);
        input.AdvanceTo(ended.Buffer.Start);
    }

    [Fact]
    public void TheReaderCompletedDuringAReceive_TheReceiveSaysStop_AndEveryBlockGoesBack()
    {
        var input = NewInput();
        Receive(input, "unread");
        var memory = input.GetReceiveMemory();

        input.Complete();
        Assert.True(_pool.Outstanding > 0);

        Assert.Equal(SocketInput.ReceiveOutcome.Stop, input.Received(memory.Length));
        Assert.Equal(0, _pool.Outstanding);
    }

    [Fact]
    public async Task APositionFromNowhere_IsRefused_AndTheInputIsUnchanged()
    {
        var input = NewInput();
        Receive(input, "kept");
        var result = await input.ReadAsync();
        var stranger = new ReadOnlySequence<byte>(new byte[10]).GetPosition(5);

        Assert.Throws<ArgumentOutOfRangeException>(() => input.AdvanceTo(stranger));
        Assert.Equal("kept", Text((await input.ReadAsync()).Buffer));
        Assert.Equal("kept", Text(result.Buffer));
    }

    private static void Receive(SocketInput input, string text)
    {
        var memory = input.GetReceiveMemory();
        var count = Encoding.ASCII.GetBytes(text, memory.Span);
        Assert.Equal(SocketInput.ReceiveOutcome.Continue, input.Received(count));
    }

    private static string Text(ReadOnlySequence<byte> buffer) => Encoding.ASCII.GetString(buffer);

    /// <summary>4 KB blocks, counted out and back.</summary>
    private sealed class CountingPool : MemoryPool<byte>
    {
        private int _outstanding;

        public int Rented { get; private set; }

        public int Outstanding => Volatile.Read(ref _outstanding);

        public override int MaxBufferSize => 4096;

        public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
        {
            Rented++;
            Interlocked.Increment(ref _outstanding);
            return new Owner(this);
        }

        protected override void Dispose(bool disposing)
        {
        }

        private sealed class Owner(CountingPool pool) : IMemoryOwner<byte>
        {
            private byte[]? _array = new byte[4096];

            public Memory<byte> Memory => _array ?? throw new ObjectDisposedException(nameof(Owner));

            public void Dispose()
            {
                if (_array is not null)
                {
                    _array = null;
                    Interlocked.Decrement(ref pool._outstanding);
                }
            }
        }
    }
}
