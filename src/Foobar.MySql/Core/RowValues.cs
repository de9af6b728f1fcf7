using System.Buffers.Text;
using System.Text;
using Foobar.MySql.Protocol;
using Foobar.MySql.Protocol.Payloads;

namespace Foobar.MySql.Core;

/// <summary>
/// Converts the text protocol's column values (https://mariadb.com/kb/en/resultset-row/) to .NET
/// types straight from the row's bytes: no intermediate string for numbers and dates.
/// </summary>
internal static class RowValues
{
    public static long ToInt64(ReadOnlySpan<byte> text, ColumnDefinition column)
    {
        if (column.Type == ColumnType.Bit)
        {
            return (long)ToBits(text);
        }
        if (Utf8Parser.TryParse(text, out long value, out var used) && used == text.Length)
        {
            return value;
        }
        if (Utf8Parser.TryParse(text, out ulong big, out used) && used == text.Length)
        {
            throw new OverflowException($"column '{column.Name}' value {big} does not fit in a signed 64-bit integer; read it with GetFieldValue<ulong>");
        }
        throw Invalid(text, column, "an integer");
    }

    public static ulong ToUInt64(ReadOnlySpan<byte> text, ColumnDefinition column)
    {
        if (column.Type == ColumnType.Bit)
        {
            return ToBits(text);
        }
        return Utf8Parser.TryParse(text, out ulong value, out var used) && used == text.Length ? value : throw Invalid(text, column, "an unsigned integer");
    }

    public static int ToInt32(ReadOnlySpan<byte> text, ColumnDefinition column) => checked((int)ToInt64(text, column));

    public static double ToDouble(ReadOnlySpan<byte> text, ColumnDefinition column) =>
        Utf8Parser.TryParse(text, out double value, out var used) && used == text.Length ? value : throw Invalid(text, column, "a number");

    public static decimal ToDecimal(ReadOnlySpan<byte> text, ColumnDefinition column) =>
        Utf8Parser.TryParse(text, out decimal value, out var used) && used == text.Length ? value : throw Invalid(text, column, "a decimal");

    public static bool ToBoolean(ReadOnlySpan<byte> text, ColumnDefinition column) => column.Type switch
    {
        ColumnType.Bit => ToBits(text) != 0,
        _ when text.Length == 1 && text[0] is (byte)'0' or (byte)'1' => text[0] == (byte)'1',
        _ => ToInt64(text, column) != 0,
    };

    public static string ToText(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);

    /// <summary>DATE, DATETIME(n), TIMESTAMP(n): <c>YYYY-MM-DD[ HH:MM:SS[.ffffff]]</c>.</summary>
    public static DateTime ToDateTime(ReadOnlySpan<byte> text, ColumnDefinition column)
    {
        if (text.Length < 10 || !TryDigits(text[..4], out var year) || !TryDigits(text[5..7], out var month) || !TryDigits(text[8..10], out var day))
        {
            throw Invalid(text, column, "a date");
        }
        if (year == 0 && month == 0 && day == 0)
        {
            throw new InvalidCastException($"column '{column.Name}' holds the zero date 0000-00-00, which DateTime cannot represent; read it as a string");
        }
        int hour = 0, minute = 0, second = 0, micro = 0;
        if (text.Length >= 19 && !(TryDigits(text[11..13], out hour) && TryDigits(text[14..16], out minute) && TryDigits(text[17..19], out second)))
        {
            throw Invalid(text, column, "a date and time");
        }
        if (text.Length > 20)
        {
            var fraction = text[20..];
            if (!TryDigits(fraction, out micro))
            {
                throw Invalid(text, column, "a date and time");
            }
            for (var i = fraction.Length; i < 6; i++)
            {
                micro *= 10;
            }
        }
        return new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified).AddTicks(micro * 10L);
    }

    /// <summary>TIME: <c>[-]H+:MM:SS[.ffffff]</c>, up to ±838 hours.</summary>
    public static TimeSpan ToTimeSpan(ReadOnlySpan<byte> text, ColumnDefinition column)
    {
        var negative = text.Length > 0 && text[0] == (byte)'-';
        var body = negative ? text[1..] : text;
        var firstColon = body.IndexOf((byte)':');
        if (firstColon < 1 || body.Length < firstColon + 6 || !TryDigits(body[..firstColon], out var hours)
            || !TryDigits(body.Slice(firstColon + 1, 2), out var minutes) || !TryDigits(body.Slice(firstColon + 4, 2), out var seconds))
        {
            throw Invalid(text, column, "a time");
        }
        var ticks = ((hours * 60L + minutes) * 60 + seconds) * TimeSpan.TicksPerSecond;
        if (body.Length > firstColon + 7)
        {
            var fraction = body[(firstColon + 7)..];
            if (!TryDigits(fraction, out var micro))
            {
                throw Invalid(text, column, "a time");
            }
            for (var i = fraction.Length; i < 6; i++)
            {
                micro *= 10;
            }
            ticks += micro * 10L;
        }
        return new TimeSpan(negative ? -ticks : ticks);
    }

    public static Guid ToGuid(ReadOnlySpan<byte> bytes, ColumnDefinition column)
    {
        if (bytes.Length == 16 && column.IsBinary)
        {
            return new Guid(bytes, bigEndian: true);
        }
        return Utf8Parser.TryParse(bytes, out Guid guid, out var used) && used == bytes.Length ? guid
            : Guid.TryParse(Encoding.UTF8.GetString(bytes), out guid) ? guid
            : throw Invalid(bytes, column, "a GUID");
    }

    /// <summary>The CLR type <see cref="ToObject"/> returns for <paramref name="column"/>.</summary>
    public static Type FieldType(ColumnDefinition column) => column.Type switch
    {
        ColumnType.Tiny when column.Length == 1 && !column.IsUnsigned => typeof(bool),
        ColumnType.Tiny => column.IsUnsigned ? typeof(byte) : typeof(sbyte),
        ColumnType.Short => column.IsUnsigned ? typeof(ushort) : typeof(short),
        ColumnType.Int24 or ColumnType.Long => column.IsUnsigned ? typeof(uint) : typeof(int),
        ColumnType.LongLong => column.IsUnsigned ? typeof(ulong) : typeof(long),
        ColumnType.Year => typeof(int),
        ColumnType.Float => typeof(float),
        ColumnType.Double => typeof(double),
        ColumnType.Decimal or ColumnType.NewDecimal => typeof(decimal),
        ColumnType.Date or ColumnType.NewDate or ColumnType.DateTime or ColumnType.Timestamp => typeof(DateTime),
        ColumnType.Time => typeof(TimeSpan),
        ColumnType.Bit => typeof(ulong),
        ColumnType.Null => typeof(object),
        _ => column.IsBinary ? typeof(byte[]) : typeof(string),
    };

    public static object ToObject(ReadOnlySpan<byte> value, ColumnDefinition column)
    {
        var type = FieldType(column);
        return type switch
        {
            _ when type == typeof(bool) => ToBoolean(value, column),
            _ when type == typeof(sbyte) => checked((sbyte)ToInt64(value, column)),
            _ when type == typeof(byte) => checked((byte)ToUInt64(value, column)),
            _ when type == typeof(short) => checked((short)ToInt64(value, column)),
            _ when type == typeof(ushort) => checked((ushort)ToUInt64(value, column)),
            _ when type == typeof(int) => ToInt32(value, column),
            _ when type == typeof(uint) => checked((uint)ToUInt64(value, column)),
            _ when type == typeof(long) => ToInt64(value, column),
            _ when type == typeof(ulong) => ToUInt64(value, column),
            _ when type == typeof(float) => (float)ToDouble(value, column),
            _ when type == typeof(double) => ToDouble(value, column),
            _ when type == typeof(decimal) => ToDecimal(value, column),
            _ when type == typeof(DateTime) => ToDateTime(value, column),
            _ when type == typeof(TimeSpan) => ToTimeSpan(value, column),
            _ when type == typeof(byte[]) => value.ToArray(),
            _ => ToText(value),
        };
    }

    /// <summary>The data type name as MariaDB spells it, for GetDataTypeName.</summary>
    public static string TypeName(ColumnDefinition column)
    {
        var name = column.Type switch
        {
            ColumnType.Tiny => "TINYINT",
            ColumnType.Short => "SMALLINT",
            ColumnType.Int24 => "MEDIUMINT",
            ColumnType.Long => "INT",
            ColumnType.LongLong => "BIGINT",
            ColumnType.Float => "FLOAT",
            ColumnType.Double => "DOUBLE",
            ColumnType.Decimal or ColumnType.NewDecimal => "DECIMAL",
            ColumnType.Date or ColumnType.NewDate => "DATE",
            ColumnType.DateTime => "DATETIME",
            ColumnType.Timestamp => "TIMESTAMP",
            ColumnType.Time => "TIME",
            ColumnType.Year => "YEAR",
            ColumnType.Bit => "BIT",
            ColumnType.Json => "JSON",
            ColumnType.Enum => "ENUM",
            ColumnType.Set => "SET",
            ColumnType.TinyBlob or ColumnType.MediumBlob or ColumnType.LongBlob or ColumnType.Blob => column.IsBinary ? "BLOB" : "TEXT",
            ColumnType.VarString or ColumnType.VarChar => column.IsBinary ? "VARBINARY" : "VARCHAR",
            ColumnType.String when (column.Flags & ColumnFlags.Enum) != 0 => "ENUM",
            ColumnType.String when (column.Flags & ColumnFlags.Set) != 0 => "SET",
            ColumnType.String => column.IsBinary ? "BINARY" : "CHAR",
            _ => column.Type.ToString().ToUpperInvariant(),
        };
        return column.IsUnsigned ? name + " UNSIGNED" : name;
    }

    private static ulong ToBits(ReadOnlySpan<byte> bytes)
    {
        ulong value = 0;
        foreach (var b in bytes)
        {
            value = (value << 8) | b;
        }
        return value;
    }

    private static bool TryDigits(ReadOnlySpan<byte> text, out int value)
    {
        value = 0;
        if (text.IsEmpty)
        {
            return false;
        }
        foreach (var b in text)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }
            value = value * 10 + (b - '0');
        }
        return true;
    }

    private static InvalidCastException Invalid(ReadOnlySpan<byte> text, ColumnDefinition column, string what) =>
        new($"column '{column.Name}' ({TypeName(column)}) value '{Encoding.UTF8.GetString(text[..Math.Min(text.Length, 64)])}' is not {what}");
}
