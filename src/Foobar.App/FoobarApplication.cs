using System.Text.Encodings.Web;
using System.Text.Json;
using Foobar.App.Guestbook;
using Foobar.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Foobar.App;

/// <summary>
/// The foobar.com application: the guestbook page (<c>/</c>, <c>/sign</c>), its JSON API
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
            if (path.StartsWith("/api/entries", StringComparison.Ordinal))
            {
                return EntriesApi.HandleAsync(context, options.Entries, options.ServerName, path["/api/entries".Length..]);
            }
            return path switch
            {
                "/healthz" => Text(context, StatusCodes.Status200OK, "ok\n"),
                "/" when HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method) => GuestbookPage.HomeAsync(context, options),
                "/sign" when HttpMethods.IsPost(context.Request.Method) => GuestbookPage.SignAsync(context, options),
                "/api/hello" => Hello(context, options),
                _ => NotFound(context),
            };
        });
    }

    private static Task Hello(HttpContext context, AppOptions options)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new { server = options.ServerName, site = options.SiteHost }), context.RequestAborted);
    }

    private static Task NotFound(HttpContext context) => Text(context, StatusCodes.Status404NotFound, "404 Not Found\n");

    private static Task Text(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text, context.RequestAborted);
    }
}
