using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Foobar.Http.AccessLogs;

/// <summary>
/// Writes an <see cref="AccessLogEntry"/> as one line. Whatever a client put in a header cannot
/// forge a line or a field: in <see cref="AccessLogFormat.Combined"/> quotes, backslashes, control
/// characters and anything outside printable ASCII are written as <c>\xHH</c> (as nginx does);
/// in <see cref="AccessLogFormat.Json"/> the JSON writer escapes them.
/// </summary>
public static class AccessLogLine
{
    /// <summary>The line for <paramref name="entry"/>, without the newline.</summary>
    public static string Format(AccessLogEntry entry, AccessLogFormat format) =>
        format == AccessLogFormat.Json ? Json(entry) : Combined(entry);

    private static string Combined(AccessLogEntry e)
    {
        var line = new StringBuilder(256);
        line.Append(e.Client).Append(" - - [")
            .Append(e.Time.ToString("dd/MMM/yyyy:HH:mm:ss zzz", CultureInfo.InvariantCulture).Remove(24, 1))
            .Append("] \"");
        Escaped(line, e.Method).Append(' ');
        Escaped(line, e.Target).Append(' ');
        Escaped(line, e.Protocol).Append("\" ")
            .Append(e.Status.ToString(CultureInfo.InvariantCulture)).Append(' ')
            .Append(e.BodyBytes?.ToString(CultureInfo.InvariantCulture) ?? "-").Append(" \"");
        Escaped(line, e.Referer ?? "-").Append("\" \"");
        Escaped(line, e.UserAgent ?? "-").Append("\" ")
            .Append(e.Duration.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture)).Append(" \"");
        Escaped(line, e.Upstream ?? "-").Append("\" \"");
        Escaped(line, e.RequestId ?? "-").Append("\" \"");
        return Escaped(line, e.ForwardedFor ?? "-").Append('"').ToString();
    }

    private static StringBuilder Escaped(StringBuilder line, string text)
    {
        foreach (var c in text)
        {
            if (c is < ' ' or > '~' or '"' or '\\')
            {
                foreach (var b in Encoding.UTF8.GetBytes(c.ToString()))
                {
                    line.Append(CultureInfo.InvariantCulture, $"\\x{b:X2}");
                }
            }
            else
            {
                line.Append(c);
            }
        }
        return line;
    }

    private static string Json(AccessLogEntry e)
    {
        using var buffer = new MemoryStream(384);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("time", e.Time);
            json.WriteString("client", e.Client);
            json.WriteString("method", e.Method);
            json.WriteString("target", e.Target);
            json.WriteString("protocol", e.Protocol);
            json.WriteNumber("status", e.Status);
            if (e.BodyBytes is { } bytes)
            {
                json.WriteNumber("body_bytes", bytes);
            }
            else
            {
                json.WriteNull("body_bytes");
            }
            json.WriteString("referer", e.Referer);
            json.WriteString("user_agent", e.UserAgent);
            json.WriteNumber("request_time", Math.Round(e.Duration.TotalSeconds, 6));
            json.WriteString("upstream", e.Upstream);
            json.WriteString("request_id", e.RequestId);
            json.WriteString("forwarded_for", e.ForwardedFor);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
