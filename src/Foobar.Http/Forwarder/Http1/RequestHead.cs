using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Foobar.Http.Backends;
using Microsoft.AspNetCore.Http;

namespace Foobar.Http.Forwarder.Http1;

/// <summary>
/// Writes a forwarded request's line and headers straight from Kestrel's parsed request into the
/// backend connection's buffer: no request object, no header collection in between.
/// </summary>
internal static class RequestHead
{
    /// <summary>
    /// Writes <paramref name="request"/>'s head for <paramref name="backend"/>, with
    /// <paramref name="forwarded"/> added (worked out before, so the request id it adds is among the headers).
    /// </summary>
    /// <param name="output">The backend connection.</param>
    /// <param name="request">The client's request; hop-by-hop headers are left out.</param>
    /// <param name="backend">The server it goes to, whose authority is the Host when the client sent none (HTTP/1.0).</param>
    /// <param name="forwarded">The headers this hop adds.</param>
    public static void Write(PipeWriter output, HttpRequest request, Backend backend, ForwardedHeaders forwarded)
    {
        Write(output, request.Method);
        output.Write(" "u8);
        var pathBase = request.PathBase;
        var path = request.Path;
        if (!pathBase.HasValue && !path.HasValue)
        {
            output.Write("/"u8);
        }
        Write(output, pathBase.ToUriComponent());
        Write(output, path.ToUriComponent());
        Write(output, request.QueryString.Value);
        output.Write(" HTTP/1.1\r\nHost: "u8);
        Write(output, request.Host.HasValue ? request.Host.Value : backend.BaseUri.Authority);
        output.Write("\r\n"u8);
        foreach (var (name, values) in request.Headers)
        {
            // No names from the client's Connection header: Kestrel keeps only close, keep-alive and upgrade of it.
            if (HopByHopHeaders.Contains(name, []) || name.Equals("Host", StringComparison.OrdinalIgnoreCase)
                || name.Equals("X-Forwarded-For", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            foreach (var value in values)
            {
                WriteHeader(output, name, value);
            }
        }
        WriteHeader(output, "X-Forwarded-For", forwarded.ForwardedFor);
        WriteHeader(output, "X-Forwarded-Proto", forwarded.Proto);
        WriteHeader(output, "X-Forwarded-Host", forwarded.Host);
        output.Write("\r\n"u8);
    }

    private static void WriteHeader(PipeWriter output, string name, string? value)
    {
        if (value is null)
        {
            return;
        }
        Write(output, name);
        output.Write(": "u8);
        Write(output, value);
        output.Write("\r\n"u8);
    }

    /// <summary>
    /// One byte per character: Kestrel admits only ASCII in request lines and headers (Latin-1
    /// where configured), so nothing is lost.
    /// </summary>
    private static void Write(PipeWriter output, string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }
        var span = output.GetSpan(text.Length);
        output.Advance(Encoding.Latin1.GetBytes(text, span));
    }
}
