using Foobar.Http;
using Foobar.Http.Forwarder;
using Foobar.Web.Static;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

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
        var files = new StaticFileCache(new SiteRoot(options.Root), TimeProvider.System);
        options.AccessLog?.Use(app, options.ServerName);
        app.Run(context =>
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
            var method = context.Request.Method;
            if ((HttpMethods.IsGet(method) || HttpMethods.IsHead(method))
                && (files.Get(path) ?? (path.EndsWith('/') ? files.Get(path + "index.html") : null)) is { } file)
            {
                return StaticFileResponder.ServeAsync(context, file, cacheControl: null);
            }
            return forwarder.ForwardAsync(context, options.Apps, options.ServerName);
        });
    }
}
