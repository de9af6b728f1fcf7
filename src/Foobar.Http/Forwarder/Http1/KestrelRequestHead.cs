using System.IO.Pipelines;
using Foobar.Http.Backends;
using Microsoft.AspNetCore.Http;

namespace Foobar.Http.Forwarder.Http1;

/// <summary>A request Kestrel parsed, sent on by <see cref="RequestHead"/>.</summary>
/// <param name="Context">The exchange.</param>
/// <param name="Forwarded">The headers this hop adds, worked out once for every try.</param>
internal readonly record struct KestrelRequestHead(HttpContext Context, ForwardedHeaders Forwarded) : IRequestHead
{
    /// <inheritdoc />
    public bool IsHead => HttpMethods.IsHead(Context.Request.Method);

    /// <inheritdoc />
    public void Write(PipeWriter output, Backend backend) => RequestHead.Write(output, Context.Request, backend, Forwarded);
}
