using Foobar.MySql.Protocol.Serialization;

namespace Foobar.MySql.Protocol.Payloads;

/// <summary>An ERR packet (https://mariadb.com/kb/en/err_packet/).</summary>
internal sealed record ErrorPayload(int ErrorCode, string SqlState, string Message)
{
    public const byte Header = 0xFF;

    public static ErrorPayload Parse(ReadOnlySpan<byte> payload)
    {
        var reader = new PayloadReader(payload);
        reader.Skip(1);
        var code = reader.ReadUInt16();
        var state = "HY000";
        if (reader.Remaining > 0 && reader.Peek() == (byte)'#')
        {
            reader.Skip(1);
            state = System.Text.Encoding.ASCII.GetString(reader.Take(Math.Min(5, reader.Remaining)));
        }
        return new ErrorPayload(code, state, System.Text.Encoding.UTF8.GetString(reader.ReadRest()));
    }

    public MySqlException ToException() => new(ErrorCode, SqlState, Message);
}
