using Foobar.MySql.Protocol.Serialization;

namespace Foobar.MySql.Protocol.Payloads;

/// <summary>The server's first packet (https://mariadb.com/kb/en/connection/#initial-handshake-packet).</summary>
internal sealed record InitialHandshake(
    string ServerVersion,
    uint ConnectionId,
    CapabilityFlags Capabilities,
    byte[] Scramble,
    string AuthPluginName,
    ServerStatus Status)
{
    public static InitialHandshake Parse(ReadOnlySpan<byte> payload)
    {
        var reader = new PayloadReader(payload);
        if (reader.Peek() == 0xFF)
        {
            throw ErrorPayload.Parse(payload).ToException();
        }
        var protocol = reader.ReadByte();
        if (protocol != 10)
        {
            throw new MySqlProtocolException($"unsupported handshake protocol version {protocol} (expected 10)");
        }
        var version = reader.ReadNullTerminatedString();
        var connectionId = reader.ReadUInt32();
        var scramble1 = reader.Take(8).ToArray();
        reader.Skip(1);
        var capabilities = (CapabilityFlags)reader.ReadUInt16();
        if (reader.Remaining == 0)
        {
            return new InitialHandshake(version, connectionId, capabilities, scramble1, "mysql_native_password", ServerStatus.None);
        }
        reader.Skip(1); // default collation: the client chooses its own in the response
        var status = (ServerStatus)reader.ReadUInt16();
        capabilities |= (CapabilityFlags)((uint)reader.ReadUInt16() << 16);
        var scrambleLength = reader.ReadByte();
        reader.Skip(10); // reserved (MariaDB keeps its extended capabilities in the last 4)
        var scramble = scramble1;
        if ((capabilities & CapabilityFlags.SecureConnection) != 0)
        {
            var part2Length = Math.Max(13, scrambleLength - 8);
            var part2 = reader.Take(Math.Min(part2Length, reader.Remaining));
            // The second part ends with a NUL that is not part of the scramble.
            var trimmed = part2.Length > 0 && part2[^1] == 0 ? part2[..^1] : part2;
            scramble = [.. scramble1, .. trimmed];
        }
        var plugin = (capabilities & CapabilityFlags.PluginAuth) != 0 && reader.Remaining > 0
            ? System.Text.Encoding.UTF8.GetString(reader.ReadRest().TrimEnd((byte)0))
            : "mysql_native_password";
        return new InitialHandshake(version, connectionId, capabilities, scramble, plugin, status);
    }
}
