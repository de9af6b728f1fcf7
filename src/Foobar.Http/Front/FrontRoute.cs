using Foobar.Http.Backends;
using Foobar.Http.Forwarder;

namespace Foobar.Http.Front;

/// <summary>Decides where a request <see cref="Http1Front"/> read goes.</summary>
/// <param name="request">The request: a GET or HEAD, its path free of escapes and dot segments.</param>
/// <returns>Where it goes; null to let Kestrel's pipeline serve the request (and the rest of its connection).</returns>
public delegate FrontRoute? FrontRouter(IFrontRequest request);

/// <summary>What a <see cref="FrontRouter"/> may look at in a request.</summary>
public interface IFrontRequest
{
    /// <summary>GET or HEAD.</summary>
    string Method { get; }

    /// <summary>The path, no query.</summary>
    string Path { get; }

    /// <summary>Whether the request has a Range, If-Range, If-Match or If-Unmodified-Since: a part, or an answer that depends on more than a cache's validators.</summary>
    bool HasRangeOrPrecondition { get; }

    /// <summary>The If-None-Match header's value; empty when absent. Made a string only when asked for.</summary>
    string IfNoneMatch { get; }

    /// <summary>The If-Modified-Since header's value; empty when absent. Made a string only when asked for.</summary>
    string IfModifiedSince { get; }

    /// <summary>The Accept-Encoding header's value; empty when absent. Made a string only when asked for.</summary>
    string AcceptEncoding { get; }
}

/// <summary>Where <see cref="Http1Front"/> sends a request: forwarded to a pool, or answered with a file.</summary>
/// <param name="Pool">The backends; null when <see cref="File"/> answers.</param>
/// <param name="Pages">The site's pages for the errors answered here; null for plain text.</param>
public readonly record struct FrontRoute(BackendPool? Pool, IErrorPages? Pages)
{
    /// <summary>The answer, when the request is answered here rather than forwarded.</summary>
    public FrontFile? File { get; init; }

    /// <summary>A route that answers with <paramref name="file"/>.</summary>
    public static FrontRoute Answer(FrontFile file) => new(null, null) { File = file };
}
