using Foobar.Http;
using Foobar.Http.Forwarder;
using Foobar.Http.Front;
using Foobar.Web.Static;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Foobar.Web;

/// <summary>
/// The web role's pipeline, as nginx's <c>try_files $uri @app</c>: <c>/healthz</c> answers here,
/// proxy prefixes go to the app servers, other paths are a static file when one matches, a 404
/// under a static-only prefix, and go to the app servers otherwise (the home page is dynamic).
/// Errors the web server answers itself use the site's <c>404.html</c> and <c>50x.html</c>.
/// New settings (<see cref="Apply"/>) take effect from the next request, on the same connections.
/// </summary>
public sealed class WebServer
{
    /// <summary>The path the load balancers check.</summary>
    public const string HealthPath = "/healthz";

    private readonly string _name;
    private readonly HttpForwarder _forwarder;
    private volatile Settings _settings;

    private WebServer(WebOptions options, HttpForwarder forwarder)
    {
        _name = options.ServerName;
        _forwarder = forwarder;
        _settings = Settings.From(options, previous: null);
    }

    /// <summary>Adds the web role to <paramref name="app"/>'s pipeline; the server returned takes new settings.</summary>
    /// <exception cref="DirectoryNotFoundException">The site root does not exist.</exception>
    public static WebServer Configure(IApplicationBuilder app, WebOptions options, HttpForwarder forwarder)
    {
        var server = new WebServer(options, forwarder);
        options.AccessLog?.Use(app, options.ServerName, quietPath: HealthPath);
        app.Run(server.HandleAsync);
        return server;
    }

    /// <summary>
    /// Serves from now on with <paramref name="options"/>' root, prefixes and Cache-Control rules
    /// (the server's name, app servers and access log stay); requests under way finish with the
    /// settings they started with. A root that stays keeps its cache.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The new root does not exist; the old settings stay.</exception>
    public void Apply(WebOptions options) => _settings = Settings.From(options, _settings);

    private Task HandleAsync(HttpContext context)
    {
        var settings = _settings;
        ServedBy.EnsureOnStart(context, _name);
        var path = context.Request.Path.Value ?? "/";
        if (path == HealthPath)
        {
            context.Response.ContentType = "text/plain";
            if (ServerLeaving.IsLeaving)
            {
                // Stopping: the load balancers take it out of rotation before it closes.
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return context.Response.WriteAsync("stopping\n", context.RequestAborted);
            }
            return context.Response.WriteAsync("ok\n", context.RequestAborted);
        }
        ServerLeaving.NoteRequest(TimeProvider.System);
        var method = context.Request.Method;
        var readable = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);
        var proxied = StartsWithAny(path, settings.Options.ProxyPrefixes);
        if (!proxied && readable && FileAt(settings, path) is { } file)
        {
            return StaticFileResponder.ServeAsync(context, file, settings.CacheControl.For(path));
        }
        // Errors answered here (no app server answered, no such static file) get the site's pages.
        context.Features.Set<IErrorPages>(settings.ErrorPages);
        if (proxied)
        {
            return _forwarder.ForwardAsync(context, settings.Options.Apps, _name);
        }
        if (StartsWithAny(path, settings.Options.StaticPrefixes))
        {
            if (!readable)
            {
                context.Response.Headers.Allow = "GET, HEAD";
                return ErrorResponse.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, _name, $"{path} holds only files");
            }
            return ErrorResponse.WriteAsync(context, StatusCodes.Status404NotFound, _name, $"no file {path}");
        }
        return _forwarder.ForwardAsync(context, settings.Options.Apps, _name);
    }

    /// <summary>
    /// Where <see cref="Http1Front"/> sends a GET or HEAD: the app servers when this pipeline would
    /// forward it, with the site's error pages; the file's answer when it is a file in memory and
    /// the request is unconditional; null when the pipeline answers it itself (a range or a
    /// precondition on a file, a file read from disk, the health check, a static-only prefix).
    /// </summary>
    public FrontRoute? Route(IFrontRequest request)
    {
        var settings = _settings;
        var path = request.Path;
        if (path == HealthPath)
        {
            return null;
        }
        if (!StartsWithAny(path, settings.Options.ProxyPrefixes))
        {
            if (FileAt(settings, path) is { } file)
            {
                return StaticFileResponder.FrontAnswer(file, request, settings.CacheControl.For(path)) is { } answer ? FrontRoute.Answer(answer) : null;
            }
            if (StartsWithAny(path, settings.Options.StaticPrefixes))
            {
                return null;
            }
        }
        return new FrontRoute(settings.Options.Apps, settings.ErrorPages);
    }

    /// <summary>The file <paramref name="path"/> names, or the index.html of the directory it names; null when there is none.</summary>
    private static StaticFile? FileAt(Settings settings, string path) =>
        settings.Files.Get(path) ?? (path.EndsWith('/') ? settings.Files.Get(path + "index.html") : null);

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

    /// <summary>Everything a request reads, swapped whole.</summary>
    private sealed record Settings(WebOptions Options, StaticFileCache Files, SiteErrorPages ErrorPages, CacheControlRules CacheControl)
    {
        public static Settings From(WebOptions options, Settings? previous)
        {
            var files = previous is not null && previous.Options.Root == options.Root
                ? previous.Files
                : new StaticFileCache(new SiteRoot(options.Root), TimeProvider.System);
            var errorPages = ReferenceEquals(files, previous?.Files) ? previous!.ErrorPages : new SiteErrorPages(files);
            return new Settings(options, files, errorPages, new CacheControlRules(options.CacheControl));
        }
    }
}
