using Foobar.Http.Backends;
using Foobar.Http.Forwarder;

namespace Foobar.Http.Front;

/// <summary>Decides where a request <see cref="Http1Front"/> read goes.</summary>
/// <param name="method">GET or HEAD.</param>
/// <param name="path">The path, no query; free of escapes and dot segments.</param>
/// <returns>The pool and error pages; null to let Kestrel's pipeline serve the request (and the rest of its connection).</returns>
public delegate FrontRoute? FrontRouter(string method, string path);

/// <summary>Where <see cref="Http1Front"/> forwards a request.</summary>
/// <param name="Pool">The backends.</param>
/// <param name="Pages">The site's pages for the errors answered here; null for plain text.</param>
public readonly record struct FrontRoute(BackendPool Pool, IErrorPages? Pages);
