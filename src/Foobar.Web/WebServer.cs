using Foobar.Http;
using Foobar.Http.Forwarder;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.FileProviders;

namespace Foobar.Web;

/// <summary>
/// The web role's pipeline, as nginx's <c>try_files $uri @app</c>: <c>/healthz</c> answers here,
/// proxy prefixes go to the app servers, other paths are a static file when one matches and go to
/// the app servers otherwise (the home page is dynamic).
/// </summary>
public static class WebServer
{
    /// <summary>The path the load balancers check.</summary>
    public const string HealthPath = "/healthz";

    /// <summary>Adds the web role to <paramref name="app"/>'s pipeline.</summary>
    /// <exception cref="DirectoryNotFoundException">The site root does not exist.</exception>
    public static void Configure(IApplicationBuilder app, WebOptions options, HttpForwarder forwarder)
    {
        if (!Directory.Exists(options.Root))
        {
            throw new DirectoryNotFoundException(
                $"The web root '{options.Root}' does not exist. Create it, or set web.root in the topology file to a directory of static files.");
        }
        app.Use((context, next) =>
        {
            ServedBy.EnsureOnStart(context, options.ServerName);
            var path = context.Request.Path.Value ?? "/";
            if (path == HealthPath)
            {
                context.Response.ContentType = "text/plain";
                return context.Response.WriteAsync("ok\n", context.RequestAborted);
            }
            foreach (var prefix in options.ProxyPrefixes)
            {
                if (path.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return forwarder.ForwardAsync(context, options.Apps, options.ServerName);
                }
            }
            return next(context);
        });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(options.Root) });
        app.Run(context => forwarder.ForwardAsync(context, options.Apps, options.ServerName));
    }
}
