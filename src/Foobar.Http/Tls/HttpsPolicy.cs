using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Foobar.Http.Tls;

/// <summary>
/// What a server that ends TLS does with plain HTTP and adds to HTTPS: a request over plain HTTP
/// gets 308 to the same URL over https (308 keeps the method and body, unlike 301), and a response
/// over HTTPS carries Strict-Transport-Security, so a browser asks over https from then on.
/// </summary>
/// <param name="HttpsPort">The port the redirect points to; 443 is left out of the URL.</param>
/// <param name="Redirect">Whether plain HTTP is redirected; false serves it as well.</param>
/// <param name="Hsts">The Strict-Transport-Security value; null for none.</param>
/// <param name="FallbackHost">The host to redirect to when a request names none (HTTP/1.0).</param>
public sealed record HttpsPolicy(int HttpsPort, bool Redirect, string? Hsts, string FallbackHost)
{
    /// <summary>Adds the policy in front of the rest of <paramref name="app"/>'s pipeline.</summary>
    public void Use(IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            if (context.Request.IsHttps)
            {
                if (Hsts is not null)
                {
                    context.Response.Headers.StrictTransportSecurity = Hsts;
                }
                return next(context);
            }
            if (!Redirect)
            {
                return next(context);
            }
            var request = context.Request;
            var host = request.Host.HasValue ? request.Host.Host : FallbackHost;
            var port = HttpsPort == 443 ? "" : $":{HttpsPort}";
            context.Response.StatusCode = StatusCodes.Status308PermanentRedirect;
            context.Response.Headers.Location = $"https://{host}{port}{request.PathBase.ToUriComponent()}{request.Path.ToUriComponent()}{request.QueryString.ToUriComponent()}";
            return Task.CompletedTask;
        });
}
