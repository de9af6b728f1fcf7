using System.Text.Encodings.Web;
using System.Text.Json;
using Foobar.App.Guestbook;
using Foobar.App.Infrastructure;
using Foobar.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Foobar.App;

/// <summary>
/// The foobar.com application: the guestbook page (<c>/</c>, <c>/sign</c>), <c>/infrastructure</c>, the guestbook's JSON API
/// (<c>/api/entries</c>), <c>/api/hello</c> and <c>/healthz</c>.
/// </summary>
public static class FoobarApplication
{
    /// <summary>Adds the application to <paramref name="app"/>'s pipeline.</summary>
    public static void Configure(IApplicationBuilder app, AppOptions options)
    {
        app.Run(context =>
        {
            ServedBy.Set(context.Response, options.ServerName, null);
            var path = context.Request.Path.Value ?? "/";
            if (path is not ("/healthz" or "/readyz"))
            {
                ServerLeaving.NoteRequest(TimeProvider.System);
            }
            if (path.StartsWith("/api/entries", StringComparison.Ordinal))
            {
                return EntriesApi.HandleAsync(context, options, path["/api/entries".Length..]);
            }
            return path switch
            {
                "/healthz" => Text(context, StatusCodes.Status200OK, "ok\n"),
                "/readyz" => Ready(context, options),
                "/" when HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method) => GuestbookPage.HomeAsync(context, options),
                "/sign" when HttpMethods.IsPost(context.Request.Method) => GuestbookPage.SignAsync(context, options),
                "/infrastructure" when HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method) => InfrastructurePage.RenderAsync(context, options),
                "/api/hello" => Hello(context, options),
                _ => NotFound(context),
            };
        });
    }

    /// <summary>
    /// <c>/readyz</c>: 200 when this server can do its work, that is it reaches a db server
    /// (primary or replica: the page renders from either) or the site has none; 503 naming what is
    /// missing otherwise, and 503 while the server is stopping (<see cref="ServerLeaving"/>). What the
    /// web servers check (foobar.yaml's <c>web.check_path</c>), so an app server cut off from the
    /// database, or on its way out, leaves rotation. <c>/healthz</c> only says the process runs.
    /// </summary>
    private static Task Ready(HttpContext context, AppOptions options)
    {
        if (ServerLeaving.IsLeaving)
        {
            return Text(context, StatusCodes.Status503ServiceUnavailable, "not ready: stopping\n");
        }
        if (options.Entries is not { } store)
        {
            return Text(context, StatusCodes.Status200OK, "ready: no database in this topology\n");
        }
        var reachable = store.ReachableServers;
        return reachable.Count > 0
            ? Text(context, StatusCodes.Status200OK, $"ready: reaches {string.Join(", ", reachable)}\n")
            : Text(context, StatusCodes.Status503ServiceUnavailable, "not ready: no db server answers\n");
    }

    private static Task Hello(HttpContext context, AppOptions options)
    {
        context.Response.ContentType = "application/json";
        return WholeBody.WriteAsync(context.Response, JsonSerializer.SerializeToUtf8Bytes(new { server = options.ServerName, site = options.SiteHost }), context.RequestAborted);
    }

    private static Task NotFound(HttpContext context) => Text(context, StatusCodes.Status404NotFound, "404 Not Found\n");

    private static Task Text(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return WholeBody.WriteAsync(context.Response, text, context.RequestAborted);
    }
}
