using System.Text;
using Microsoft.AspNetCore.Http;

namespace Foobar.App;

/// <summary>
/// Writes a response whose body is known in full, with its Content-Length: Kestrel then sends head
/// and body in one write. Written as a plain string, the body went out chunked, and the chunk that
/// ends it in a write of its own — two segments per response, each waking the web server and the
/// load balancer in front (measured with strace on an app server: 199 bytes, then 5).
/// </summary>
internal static class WholeBody
{
    /// <summary>Writes <paramref name="text"/> as UTF-8.</summary>
    public static Task WriteAsync(HttpResponse response, string text, CancellationToken cancellationToken) =>
        WriteAsync(response, Encoding.UTF8.GetBytes(text), cancellationToken);

    /// <summary>Writes <paramref name="body"/>.</summary>
    public static Task WriteAsync(HttpResponse response, byte[] body, CancellationToken cancellationToken)
    {
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, 0, body.Length, cancellationToken);
    }
}
