using Foobar.MySql.Protocol.Serialization;

namespace Foobar.MySql.Protocol.Payloads;

/// <summary>One column of a result set (https://mariadb.com/kb/en/result-set-packets/#column-definition-packet).</summary>
internal sealed record ColumnDefinition(string Name, string Table, int CharacterSet, uint Length, ColumnType Type, ColumnFlags Flags, byte Decimals)
{
    /// <summary>The binary collation: BINARY/VARBINARY/BLOB columns, as opposed to text.</summary>
    public const int BinaryCharacterSet = 63;

    public bool IsUnsigned => (Flags & ColumnFlags.Unsigned) != 0;

    public bool IsBinary => CharacterSet == BinaryCharacterSet;

    public static ColumnDefinition Parse(ReadOnlySpan<byte> payload)
    {
        var reader = new PayloadReader(payload);
        reader.ReadLengthEncodedBytes(); // catalog ("def")
        reader.ReadLengthEncodedBytes(); // schema
        var table = reader.ReadLengthEncodedString(); // table alias
        reader.ReadLengthEncodedBytes(); // original table
        var name = reader.ReadLengthEncodedString(); // column alias
        reader.ReadLengthEncodedBytes(); // original column
        reader.ReadLengthEncodedInteger(); // length of the fixed fields (0x0C)
        var charset = reader.ReadUInt16();
        var length = reader.ReadUInt32();
        var type = (ColumnType)reader.ReadByte();
        var flags = (ColumnFlags)reader.ReadUInt16();
        var decimals = reader.ReadByte();
        return new ColumnDefinition(name, table, charset, length, type, flags, decimals);
    }
}
