using System.Globalization;
using Foobar.Http;
using Microsoft.AspNetCore.Http;

namespace Foobar.App.Limits;

/// <summary>
/// <see cref="AppOptions.WriteLimit"/> applied to a request: the client is the real one
/// (<see cref="ClientAddress"/>, trusting only the site's own proxies, <see cref="AppOptions.Site"/>).
/// </summary>
internal static class WriteAllowance
{
    /// <summary>Whose tokens <paramref name="context"/>'s write takes; null when the site has no limit.</summary>
    public static Allowance? For(HttpContext context, AppOptions options) =>
        options.WriteLimit is { } limit && ClientAddress.Of(context.Request, options.Site.IsProxy) is { } client
            ? new Allowance(client, limit)
            : null;

    /// <summary>Sets <c>Retry-After</c> (whole seconds, at least 1) and returns the sentence to answer 429 with.</summary>
    public static string Refuse(HttpContext context, Allowance allowance, TimeSpan retryAfter)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return $"{allowance.Client} may write {allowance.Limit.Describe()}; try again in {seconds} s";
    }
}
