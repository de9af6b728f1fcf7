using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using Foobar.Http.Forwarder;
using Foobar.Http.Forwarder.Http1;
using Foobar.Http.Transport;
using Microsoft.AspNetCore.WebUtilities;

namespace Foobar.Http.Front;

/// <summary>
/// Writes <see cref="Http1Front"/>'s responses into the client's connection buffer: a backend's
/// response head passed on as the forwarder's Kestrel path passes it (same headers, X-Served-By and
/// X-Request-Id), or an answer of the front's own as <see cref="ErrorResponse"/> words it.
/// </summary>
internal static class FrontResponse
{
    /// <summary>
    /// Writes the head of the backend's response <paramref name="head"/>: its status and end-to-end
    /// headers, this server first in X-Served-By, the request's id unless the backend gave one back,
    /// the body's framing, and <c>Connection: close</c> when <paramref name="close"/> (or when the
    /// body ends with the backend's connection, which then sets it).
    /// </summary>
    /// <returns>Whether the client connection must close after the body.</returns>
    public static bool WriteHead(PipeWriter output, ResponseHead head, string self, FrontRequest request, bool close)
    {
        request.Answered(head.Status, head.Framing == BodyFraming.ContentLength ? head.ContentLength : null, request.KeepsUpstream ? head.ServedBy : null);
        var framing = head.Framing;
        if (framing == BodyFraming.UntilClose)
        {
            close = true;
        }
        var statusLine = StatusLine(head.Status);
        var lines = head.Lines;
        var upstream = head.ServedByBytes;
        // One span for the whole head: each piece asked of the writer on its own cost more than its copy.
        var span = output.GetSpan(statusLine.Length + lines.Length + ServedByLineSize + self.Length + upstream.Length
            + (head.HasRequestId ? 0 : request.RequestIdLineLength) + FramingLineSize + CloseLine.Length + 2);
        var written = 0;
        Append(span, ref written, statusLine);
        Append(span, ref written, lines);
        Append(span, ref written, "X-Served-By: "u8);
        written += Encoding.Latin1.GetBytes(self, span[written..]);
        if (!upstream.IsEmpty)
        {
            Append(span, ref written, ", "u8);
            Append(span, ref written, upstream);
        }
        Append(span, ref written, "\r\n"u8);
        if (!head.HasRequestId)
        {
            written += request.WriteRequestId(span[written..]);
        }
        switch (framing)
        {
            case BodyFraming.ContentLength:
                Append(span, ref written, "Content-Length: "u8);
                head.ContentLength.TryFormat(span[written..], out var digits, default, CultureInfo.InvariantCulture);
                written += digits;
                Append(span, ref written, "\r\n"u8);
                break;
            case BodyFraming.Chunked:
                Append(span, ref written, "Transfer-Encoding: chunked\r\n"u8);
                break;
        }
        if (close)
        {
            Append(span, ref written, CloseLine);
        }
        Append(span, ref written, "\r\n"u8);
        output.Advance(written);
        return close;
    }

    /// <summary>"X-Served-By: ", ", " and CRLF around this server's name and the upstream's.</summary>
    private const int ServedByLineSize = 13 + 2 + 2;

    /// <summary>The longer framing line: "Content-Length: " with 19 digits and CRLF, or "Transfer-Encoding: chunked" and CRLF.</summary>
    private const int FramingLineSize = 40;

    private static ReadOnlySpan<byte> CloseLine => "Connection: close\r\n"u8;

    private static void Append(Span<byte> span, ref int written, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(span[written..]);
        written += bytes.Length;
    }

    /// <summary>
    /// Writes a whole answer of the front's own: "<paramref name="status"/> Reason:
    /// <paramref name="reason"/>" as text, or the site's page for the status from
    /// <paramref name="pages"/>; no body for HEAD.
    /// </summary>
    public static void WriteError(PipeWriter output, int status, string self, string reason, IErrorPages? pages, FrontRequest request, bool retryAfter, bool close)
    {
        WriteStatusLine(output, status);
        WriteHeader(output, "Date", HttpDate.Now);
        WriteHeader(output, ServedBy.HeaderName, self);
        request.WriteRequestId(output);
        if (retryAfter)
        {
            // Busy, not broken: a well-behaved client comes back a little later.
            output.Write("Retry-After: 1\r\n"u8);
        }
        ReadOnlyMemory<byte> body;
        if (pages is not null && pages.TryGet(status, out var page, out var contentType))
        {
            body = page;
        }
        else
        {
            contentType = "text/plain; charset=utf-8";
            body = Encoding.UTF8.GetBytes($"{status} {ReasonPhrases.GetReasonPhrase(status)}: {reason}\n");
        }
        request.Answered(status, body.Length, null);
        WriteHeader(output, "Content-Type", contentType);
        output.Write("Content-Length: "u8);
        WriteNumber(output, body.Length);
        output.Write("\r\n"u8);
        if (close)
        {
            output.Write("Connection: close\r\n"u8);
        }
        output.Write("\r\n"u8);
        if (!request.IsHead)
        {
            output.Write(body.Span);
        }
    }

    /// <summary>
    /// Writes <paramref name="file"/>'s answer: its status, Date, this server in X-Served-By, the file's
    /// headers, <c>Connection: close</c> when <paramref name="close"/>, and the body unless the
    /// request is a HEAD — a large one not copied when the connection is Foobar's own transport.
    /// </summary>
    public static void WriteFile(PipeWriter output, FrontFile file, string self, FrontRequest request, bool close)
    {
        WriteStatusLine(output, file.Status);
        WriteHeader(output, "Date", HttpDate.Now);
        WriteHeader(output, ServedBy.HeaderName, self);
        output.Write(file.Headers.Span);
        if (close)
        {
            output.Write("Connection: close\r\n"u8);
        }
        output.Write("\r\n"u8);
        request.Answered(file.Status, file.Body.Length, null);
        if (request.IsHead || file.Body.IsEmpty)
        {
            return;
        }
        if (file.Body.Length >= FrontFile.MinUnownedBody && output is SocketOutput socket)
        {
            if (file.Sealed is { } sealedFile)
            {
                socket.WriteFile(sealedFile);
            }
            else
            {
                socket.WriteUnowned(file.Body);
            }
        }
        else
        {
            output.Write(file.Body.Span);
        }
    }

    private static void WriteStatusLine(PipeWriter output, int status) => output.Write(StatusLine(status));

    private static byte[] StatusLine(int status) =>
        StatusLines[status] ??= Encoding.ASCII.GetBytes($"HTTP/1.1 {status} {ReasonPhrases.GetReasonPhrase(status)}\r\n");

    /// <summary>The status line of each code (100–999, what <see cref="ResponseHead"/> and the front's own answers give), made once.</summary>
    private static readonly byte[]?[] StatusLines = new byte[]?[1000];

    private static void WriteHeader(PipeWriter output, string name, string value)
    {
        WriteText(output, name);
        output.Write(": "u8);
        WriteText(output, value);
        output.Write("\r\n"u8);
    }

    /// <summary>One byte per character: the values came from Latin-1 bytes or are ASCII.</summary>
    private static void WriteText(PipeWriter output, string text)
    {
        if (text.Length == 0)
        {
            return;
        }
        var span = output.GetSpan(text.Length);
        output.Advance(Encoding.Latin1.GetBytes(text, span));
    }

    private static void WriteNumber(PipeWriter output, long number)
    {
        var span = output.GetSpan(20);
        number.TryFormat(span, out var written, default, CultureInfo.InvariantCulture);
        output.Advance(written);
    }

    /// <summary>The Date header's value, formatted once a second.</summary>
    private static class HttpDate
    {
        private static Stamp s_last = new(0, "");

        public static string Now
        {
            get
            {
                var now = DateTimeOffset.UtcNow;
                var second = now.ToUnixTimeSeconds();
                var last = s_last;
                if (last.Second == second)
                {
                    return last.Text;
                }
                var text = now.ToString("r", CultureInfo.InvariantCulture);
                s_last = new Stamp(second, text);
                return text;
            }
        }

        private sealed record Stamp(long Second, string Text);
    }
}
