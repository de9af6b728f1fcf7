using Foobar.MySql.Protocol;
using Foobar.MySql.Protocol.Payloads;
using Foobar.MySql.Protocol.Serialization;

namespace Foobar.MySql.Tests.Protocol;

public class PayloadTests
{
    [Theory]
    [InlineData(new byte[] { 0x05 }, 5UL)]
    [InlineData(new byte[] { 0xFA }, 250UL)]
    [InlineData(new byte[] { 0xFC, 0xFB, 0x00 }, 251UL)]
    [InlineData(new byte[] { 0xFD, 0x00, 0x00, 0x01 }, 65536UL)]
    [InlineData(new byte[] { 0xFE, 1, 0, 0, 0, 0, 0, 0, 0x80 }, 0x8000000000000001UL)]
    [InlineData(new byte[] { 0xFB }, ulong.MaxValue)]
    public void ReadLengthEncodedInteger_AllWidths(byte[] bytes, ulong expected)
    {
        var reader = new PayloadReader(bytes);

        Assert.Equal(expected, reader.ReadLengthEncodedInteger());
        Assert.Equal(0, reader.Remaining);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(250UL)]
    [InlineData(251UL)]
    [InlineData(65535UL)]
    [InlineData(65536UL)]
    [InlineData(16_777_215UL)]
    [InlineData(16_777_216UL)]
    [InlineData(ulong.MaxValue - 1)]
    public void WriteLengthEncoded_RoundTrips(ulong value)
    {
        using var writer = new PayloadWriter();
        writer.WriteLengthEncoded(value);

        Assert.Equal(value, new PayloadReader(writer.Payload).ReadLengthEncodedInteger());
    }

    [Fact]
    public void Reader_PastTheEnd_IsAProtocolErrorWithTheOffset()
    {
        var e = Assert.Throws<MySqlProtocolException>(() => new PayloadReader([0xFC, 0x01]).ReadLengthEncodedInteger());

        Assert.Contains("truncated", e.Message);
        Assert.Contains("offset 1", e.Message);
    }

    [Fact]
    public void Reader_LengthPrefixLargerThanThePacket_IsAProtocolError()
    {
        Assert.Throws<MySqlProtocolException>(() => new PayloadReader([0x10, 1, 2]).ReadLengthEncodedBytes().ToArray());
    }

    [Fact]
    public void Reader_InvalidPrefix0xFF_IsAProtocolError()
    {
        Assert.Throws<MySqlProtocolException>(() => new PayloadReader([0xFF]).ReadLengthEncodedInteger());
    }

    [Fact]
    public void Ok_WithSessionTrackedLastGtid_ExposesIt()
    {
        using var variable = new PayloadWriter();
        variable.WriteLengthEncoded("last_gtid");
        variable.WriteLengthEncoded("0-1-42");
        using var changes = new PayloadWriter();
        changes.Write((byte)0);
        changes.WriteLengthEncoded(variable.Payload);
        using var ok = new PayloadWriter();
        ok.Write((byte)0);
        ok.WriteLengthEncoded(1);
        ok.WriteLengthEncoded(7);
        ok.Write((ushort)(ServerStatus.Autocommit | ServerStatus.SessionStateChanged));
        ok.Write((ushort)0);
        ok.WriteLengthEncoded("");
        ok.WriteLengthEncoded(changes.Payload);

        var parsed = OkPayload.Parse(ok.Payload, CapabilityFlags.SessionTrack | CapabilityFlags.Protocol41);

        Assert.Equal(1UL, parsed.AffectedRows);
        Assert.Equal(7UL, parsed.LastInsertId);
        Assert.Equal("0-1-42", parsed.LastGtid);
    }

    [Fact]
    public void Error_ParsesNumberStateAndMessage()
    {
        var error = ErrorPayload.Parse([0xFF, 0x15, 0x04, (byte)'#', .. "28000"u8.ToArray(), .. "Access denied"u8.ToArray()]);

        Assert.Equal(1045, error.ErrorCode);
        Assert.Equal("28000", error.SqlState);
        Assert.Equal("Access denied", error.Message);
    }

    [Fact]
    public void Handshake_ParsesMariaDbsPacket()
    {
        var handshake = InitialHandshake.Parse(Fakes.FakeConnection.Handshake("client_ed25519"));

        Assert.Equal("5.5.5-10.11.0-FakeDB", handshake.ServerVersion);
        Assert.Equal(7u, handshake.ConnectionId);
        Assert.Equal(Fakes.FakeMySqlServer.Scramble, handshake.Scramble);
        Assert.Equal("client_ed25519", handshake.AuthPluginName);
        Assert.True((handshake.Capabilities & CapabilityFlags.PluginAuth) != 0);
    }

    [Fact]
    public async Task PacketStream_PayloadLargerThanAllowed_IsRefusedBeforeAllocating()
    {
        var packet = new byte[] { 0x00, 0x10, 0x00, 0x00 }; // claims 4096 bytes
        using var stream = new PacketStream(new MemoryStream(packet), maxPayload: 1024);

        var e = await Assert.ThrowsAsync<MySqlProtocolException>(async () => await stream.ReadPayloadAsync(CancellationToken.None));

        Assert.Contains("larger than the 1024 bytes allowed", e.Message);
    }

    [Fact]
    public async Task PacketStream_SplitsAndJoinsPayloadsOfSixteenMebibytes()
    {
        var payload = Enumerable.Range(0, PacketStream.MaxPacketPayload + 10).Select(i => (byte)i).ToArray();
        var wire = new MemoryStream();
        using (var writer = new PayloadWriter())
        {
            writer.Write(payload);
            var sender = new PacketStream(wire, int.MaxValue);
            await sender.WriteAsync(writer, CancellationToken.None);
        }
        Assert.Equal(payload.Length + 8, wire.Length);

        using var receiver = new PacketStream(new MemoryStream(wire.ToArray()), int.MaxValue);
        var read = await receiver.ReadPayloadAsync(CancellationToken.None);

        Assert.True(read.Span.SequenceEqual(payload));
    }
}
