namespace Foobar.Web.Static;

/// <summary>
/// The Cache-Control value for a static file by its request path (<c>web.cache_control</c>): rules
/// in order, each a prefix (<c>/assets/</c>) or a suffix (<c>*.html</c>); the first match wins.
/// </summary>
public sealed class CacheControlRules(IReadOnlyList<KeyValuePair<string, string>> rules)
{
    /// <summary>The value for <paramref name="path"/>; null when no rule matches (no header is sent).</summary>
    public string? For(string path)
    {
        foreach (var (pattern, value) in rules)
        {
            var matches = pattern.StartsWith('*')
                ? path.EndsWith(pattern.AsSpan(1), StringComparison.OrdinalIgnoreCase)
                : path.StartsWith(pattern, StringComparison.Ordinal);
            if (matches)
            {
                return value;
            }
        }
        return null;
    }
}
