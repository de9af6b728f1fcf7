using Foobar.Http.AccessLogs;
using Foobar.Http.Backends;

namespace Foobar.Web;

/// <summary>Settings of one web server.</summary>
/// <param name="ServerName">This server's name, for X-Served-By.</param>
/// <param name="Root">Absolute path of the static files.</param>
/// <param name="ProxyPrefixes">Path prefixes always forwarded to <paramref name="Apps"/>.</param>
/// <param name="Apps">The app servers.</param>
public sealed record WebOptions(string ServerName, string Root, IReadOnlyList<string> ProxyPrefixes, BackendPool Apps)
{
    /// <summary>Where every request is logged; null for none. Its writer runs elsewhere (<see cref="AccessLog.RunAsync"/>).</summary>
    public AccessLog? AccessLog { get; init; }

    /// <summary>Path prefixes that hold only files: a miss is 404, never the app servers (<c>web.static</c>).</summary>
    public IReadOnlyList<string> StaticPrefixes { get; init; } = [];

    /// <summary>Cache-Control for static files by path pattern (<c>web.cache_control</c>).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> CacheControl { get; init; } = [];
}
