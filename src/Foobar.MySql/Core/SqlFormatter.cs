using System.Globalization;
using System.Text;

namespace Foobar.MySql.Core;

/// <summary>
/// Client-side parameter substitution: replaces <c>@name</c>, <c>?name</c> and <c>?</c> outside
/// string literals, quoted identifiers and comments with escaped SQL literals. An <c>@name</c> with
/// no parameter of that name stays as written: it is a user variable (<c>SET @x = 1</c>).
/// </summary>
/// <remarks>
/// Why client-side rather than server-side prepared statements: one round trip per command instead
/// of two (or a statement cache to keep in step with pooling and resets), the same text protocol for
/// every command, and the result is just as injection-proof: every value becomes one literal whose
/// quotes and backslashes are escaped for the session's mode (NO_BACKSLASH_ESCAPES is read from the
/// server status of every OK packet), on a connection that is always utf8mb4, so no multi-byte
/// character can swallow an escape (the GBK/Big5 attack does not apply).
/// </remarks>
internal static class SqlFormatter
{
    /// <summary>
    /// <paramref name="sql"/> with its placeholders replaced. <paramref name="noBackslashEscapes"/>
    /// is the session's mode; with <paramref name="modeKnown"/> false (a reset goes out with this
    /// command, and the server says the mode only in its answer) every string literal is written
    /// so that it reads the same in both modes, which takes strings without a backslash.
    /// </summary>
    public static string Format(string sql, MySqlParameterCollection parameters, bool noBackslashEscapes, bool modeKnown = true)
    {
        if (parameters.Count == 0)
        {
            return sql;
        }
        var output = new StringBuilder(sql.Length + 16 * parameters.Count);
        var positional = 0;
        var i = 0;
        while (i < sql.Length)
        {
            var c = sql[i];
            switch (c)
            {
                case '\'' or '"' or '`':
                    i = CopyQuoted(sql, i, output, c, noBackslash: c == '`' || noBackslashEscapes);
                    continue;
                case '-' when i + 1 < sql.Length && sql[i + 1] == '-' && (i + 2 == sql.Length || char.IsWhiteSpace(sql[i + 2])):
                case '#':
                    i = CopyUntil(sql, i, output, "\n");
                    continue;
                case '/' when i + 1 < sql.Length && sql[i + 1] == '*':
                    i = CopyUntil(sql, i, output, "*/");
                    continue;
                case '@' when i + 1 < sql.Length && sql[i + 1] == '@':
                    // @@system_variable
                    var end = i + 2;
                    while (end < sql.Length && IsNameChar(sql[end]))
                    {
                        end++;
                    }
                    output.Append(sql, i, end - i);
                    i = end;
                    continue;
                case '@' or '?':
                    var nameEnd = i + 1;
                    while (nameEnd < sql.Length && IsNameChar(sql[nameEnd]))
                    {
                        nameEnd++;
                    }
                    var name = sql[(i + 1)..nameEnd];
                    if (name.Length == 0 && c == '?')
                    {
                        var unnamed = parameters.Items.Where(p => p.NormalizedName.Length == 0).ElementAtOrDefault(positional++)
                            ?? throw new MySqlException(MySqlErrorCode.InvalidState, "07001", $"the SQL has more '?' placeholders than unnamed parameters ({positional - 1})");
                        AppendLiteral(output, unnamed.Value, noBackslashEscapes, modeKnown);
                    }
                    else if (name.Length > 0 && parameters.Find(name) is { } parameter)
                    {
                        AppendLiteral(output, parameter.Value, noBackslashEscapes, modeKnown);
                    }
                    else
                    {
                        output.Append(sql, i, nameEnd - i);
                    }
                    i = nameEnd;
                    continue;
                default:
                    output.Append(c);
                    i++;
                    continue;
            }
        }
        return output.ToString();
    }

    /// <summary>
    /// Whether a value of <paramref name="parameters"/> can only be written once the session's mode
    /// is known: a string with a backslash (see <see cref="Format"/>'s modeKnown).
    /// </summary>
    public static bool NeedsKnownMode(MySqlParameterCollection parameters)
    {
        foreach (var parameter in parameters.Items)
        {
            if (parameter.Value is string s && s.Contains('\\') || parameter.Value is '\\')
            {
                return true;
            }
        }
        return false;
    }

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '$' or '.';

    /// <summary>Copies a quoted literal or identifier verbatim, honouring doubled quotes and (in default mode) backslash escapes.</summary>
    private static int CopyQuoted(string sql, int start, StringBuilder output, char quote, bool noBackslash)
    {
        var i = start + 1;
        while (i < sql.Length)
        {
            if (sql[i] == '\\' && !noBackslash)
            {
                i += 2;
                continue;
            }
            if (sql[i] == quote)
            {
                if (i + 1 < sql.Length && sql[i + 1] == quote)
                {
                    i += 2;
                    continue;
                }
                i++;
                break;
            }
            i++;
        }
        i = Math.Min(i, sql.Length);
        output.Append(sql, start, i - start);
        return i;
    }

    private static int CopyUntil(string sql, int start, StringBuilder output, string terminator)
    {
        var end = sql.IndexOf(terminator, start + 1, StringComparison.Ordinal);
        end = end < 0 ? sql.Length : end + terminator.Length;
        output.Append(sql, start, end - start);
        return end;
    }

    /// <summary>Appends <paramref name="value"/> as a SQL literal.</summary>
    public static void AppendLiteral(StringBuilder output, object? value, bool noBackslashEscapes, bool modeKnown = true)
    {
        switch (value)
        {
            case null or DBNull:
                output.Append("NULL");
                break;
            case string s:
                AppendString(output, s, noBackslashEscapes, modeKnown);
                break;
            case char ch:
                AppendString(output, ch.ToString(), noBackslashEscapes, modeKnown);
                break;
            case bool b:
                output.Append(b ? '1' : '0');
                break;
            case sbyte or byte or short or ushort or int or uint or long or ulong or decimal:
                output.Append(((IFormattable)value).ToString(null, CultureInfo.InvariantCulture));
                break;
            case Enum e:
                output.Append(Convert.ToInt64(e, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture));
                break;
            case float f when float.IsFinite(f):
                output.Append(f.ToString("R", CultureInfo.InvariantCulture));
                break;
            case double d when double.IsFinite(d):
                output.Append(d.ToString("R", CultureInfo.InvariantCulture));
                break;
            case float or double:
                throw new NotSupportedException($"MariaDB cannot store {value}; only finite floating-point values are allowed");
            case DateTime dt:
                output.Append('\'').Append(dt.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)).Append('\'');
                break;
            case DateTimeOffset dto:
                output.Append('\'').Append(dto.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)).Append('\'');
                break;
            case DateOnly date:
                output.Append('\'').Append(date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append('\'');
                break;
            case TimeOnly time:
                output.Append('\'').Append(time.ToString("HH:mm:ss.ffffff", CultureInfo.InvariantCulture)).Append('\'');
                break;
            case TimeSpan span:
                output.Append('\'').Append(span < TimeSpan.Zero ? "-" : "")
                    .Append(((long)Math.Abs(span.TotalHours)).ToString(CultureInfo.InvariantCulture))
                    .Append(span.ToString(@"\:mm\:ss\.ffffff", CultureInfo.InvariantCulture)).Append('\'');
                break;
            case Guid guid:
                output.Append('\'').Append(guid.ToString("D")).Append('\'');
                break;
            case byte[] bytes:
                AppendBytes(output, bytes);
                break;
            case ReadOnlyMemory<byte> memory:
                AppendBytes(output, memory.Span);
                break;
            case Memory<byte> memory:
                AppendBytes(output, memory.Span);
                break;
            default:
                throw new NotSupportedException($"parameter values of type {value.GetType().FullName} are not supported; convert it to a string, number, date, Guid or byte[]");
        }
    }

    private static void AppendBytes(StringBuilder output, ReadOnlySpan<byte> bytes)
    {
        output.Append("X'");
        output.Append(Convert.ToHexString(bytes));
        output.Append('\'');
    }

    private static void AppendString(StringBuilder output, string text, bool noBackslashEscapes, bool modeKnown)
    {
        if (!modeKnown)
        {
            // Only the quote needs escaping in both modes, by doubling; NUL and Ctrl+Z go as they are.
            // A backslash escapes in one mode and is itself in the other: the caller resets first (NeedsKnownMode).
            if (text.Contains('\\'))
            {
                throw new InvalidOperationException("a string with a backslash can only be written for a known NO_BACKSLASH_ESCAPES mode");
            }
            noBackslashEscapes = true;
        }
        output.Append('\'');
        foreach (var c in text)
        {
            switch (c)
            {
                case '\'':
                    output.Append("''");
                    break;
                case '\\' when !noBackslashEscapes:
                    output.Append(@"\\");
                    break;
                case '\0' when !noBackslashEscapes:
                    output.Append(@"\0");
                    break;
                case '\u001A' when !noBackslashEscapes:
                    output.Append(@"\Z");
                    break;
                default:
                    output.Append(c);
                    break;
            }
        }
        output.Append('\'');
    }
}
