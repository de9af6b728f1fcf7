using System.Text.Encodings.Web;
using System.Text.Json;
using Foobar.App.Guestbook;
using Foobar.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Foobar.App;

/// <summary>
/// The foobar.com application: a home page, <c>/api/hello</c> and <c>/healthz</c>. The guestbook and
/// its database come with the application issue; this is the page every request path ends at.
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
                "/" => HomePage(context, options),
                "/api/hello" => Hello(context, options),
                _ => NotFound(context),
            };
        });
    }

    private static Task HomePage(HttpContext context, AppOptions options)
    {
        var host = HtmlEncoder.Default.Encode(options.SiteHost);
        var server = HtmlEncoder.Default.Encode(options.ServerName);
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsync($$"""
            <!doctype html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <meta name="viewport" content="width=device-width, initial-scale=1">
              <title>{{host}}</title>
              <link rel="stylesheet" href="/assets/foobar.css">
              <link rel="icon" href="/favicon.svg">
            </head>
            <body>
              <main>
                <h1>{{host}}</h1>
                <p>This page was made by application server <strong>{{server}}</strong>.</p>
                <p class="path">The response header <code>X-Served-By</code> names every server on its way;
                reload to watch the load balancer take turns.</p>
              </main>
              <script src="/assets/foobar.js"></script>
            </body>
            </html>
            """, context.RequestAborted);
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
