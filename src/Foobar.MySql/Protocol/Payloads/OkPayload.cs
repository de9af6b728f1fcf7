using System.Text;
using Foobar.MySql.Protocol.Serialization;

namespace Foobar.MySql.Protocol.Payloads;

/// <summary>
/// An OK packet, or the OK that ends a result set under CLIENT_DEPRECATE_EOF
/// (https://mariadb.com/kb/en/ok_packet/), with the session state changes the server tracked.
/// </summary>
internal readonly record struct OkPayload(ulong AffectedRows, ulong LastInsertId, ServerStatus Status, ushort Warnings, string? LastGtid)
{
    private const byte SessionTrackSystemVariables = 0;

    public static bool IsOk(ReadOnlySpan<byte> payload, CapabilityFlags capabilities) =>
        payload.Length > 0 && (payload[0] == 0x00 || (payload[0] == 0xFE && payload.Length < PacketStream.MaxPacketPayload && (capabilities & CapabilityFlags.DeprecateEof) != 0));

    public static OkPayload Parse(ReadOnlySpan<byte> payload, CapabilityFlags capabilities)
    {
        var reader = new PayloadReader(payload);
        reader.Skip(1);
        var affected = reader.ReadLengthEncodedInteger();
        var insertId = reader.ReadLengthEncodedInteger();
        var status = (ServerStatus)reader.ReadUInt16();
        var warnings = reader.ReadUInt16();
        string? lastGtid = null;
        if ((capabilities & CapabilityFlags.SessionTrack) != 0 && reader.Remaining > 0)
        {
            reader.ReadLengthEncodedBytes(); // info
            if ((status & ServerStatus.SessionStateChanged) != 0 && reader.Remaining > 0)
            {
                lastGtid = ReadLastGtid(reader.ReadLengthEncodedBytes());
            }
        }
        return new OkPayload(affected, insertId, status, warnings, lastGtid);
    }

    /// <summary>The tracked <c>last_gtid</c> among the session state changes, if the server reported it.</summary>
    private static string? ReadLastGtid(ReadOnlySpan<byte> changes)
    {
        var reader = new PayloadReader(changes);
        string? gtid = null;
        while (reader.Remaining > 0)
        {
            var type = reader.ReadByte();
            var data = reader.ReadLengthEncodedBytes();
            if (type != SessionTrackSystemVariables)
            {
                continue;
            }
            var variable = new PayloadReader(data);
            var name = variable.ReadLengthEncodedBytes();
            var value = variable.ReadLengthEncodedBytes();
            if (name.SequenceEqual("last_gtid"u8) && value.Length > 0)
            {
                gtid = Encoding.ASCII.GetString(value);
            }
        }
        return gtid;
    }
}
