using Foobar.Http;
using Foobar.Http.Forwarder;
using Foobar.Web.Static;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Foobar.Web;

/// <summary>
/// The web role's pipeline, as nginx's <c>try_files $uri @app</c>: <c>/healthz</c> answers here,
/// proxy prefixes go to the app servers, other paths are a static file when one matches, a 404
/// under a static-only prefix, and go to the app servers otherwise (the home page is dynamic).
/// Errors the web server answers itself use the site's <c>404.html</c> and <c>50x.html</c>.
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
        var errorPages = new SiteErrorPages(files);
        var cacheControl = new CacheControlRules(options.CacheControl);
        options.AccessLog?.Use(app, options.ServerName, quietPath: HealthPath);
        app.Run(context =>
        {
            ServedBy.EnsureOnStart(context, options.ServerName);
            var path = context.Request.Path.Value ?? "/";
            if (path == HealthPath)
            {
                context.Response.ContentType = "text/plain";
                return context.Response.WriteAsync("ok\n", context.RequestAborted);
            }
            // Errors answered here (no app server answered, no such static file) get the site's pages.
            context.Features.Set<IErrorPages>(errorPages);
            if (StartsWithAny(path, options.ProxyPrefixes))
            {
                return forwarder.ForwardAsync(context, options.Apps, options.ServerName);
            }
            var method = context.Request.Method;
            var readable = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);
            if (readable && (files.Get(path) ?? (path.EndsWith('/') ? files.Get(path + "index.html") : null)) is { } file)
            {
                return StaticFileResponder.ServeAsync(context, file, cacheControl.For(path));
            }
            if (StartsWithAny(path, options.StaticPrefixes))
            {
                if (!readable)
                {
                    context.Response.Headers.Allow = "GET, HEAD";
                    return ErrorResponse.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, options.ServerName, $"{path} holds only files");
                }
                return ErrorResponse.WriteAsync(context, StatusCodes.Status404NotFound, options.ServerName, $"no file {path}");
            }
            return forwarder.ForwardAsync(context, options.Apps, options.ServerName);
        });
    }

    private static bool StartsWithAny(string path, IReadOnlyList<string> prefixes)
    {
        foreach (var prefix in prefixes)
        {
            if (path.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }
}
