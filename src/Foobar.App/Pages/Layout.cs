using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Http;

namespace Foobar.App.Pages;

/// <summary>The frame every page of the application shares: head, stylesheet from the web tier, navigation, script.</summary>
internal static class Layout
{
    /// <summary>Encodes a person's or a server's text for HTML.</summary>
    public static readonly HtmlEncoder Html = HtmlEncoder.Default;

    /// <summary>Starts a page: everything up to and including <c>&lt;main&gt;</c> and its heading.</summary>
    public static StringBuilder Begin(string siteHost, string title)
    {
        var host = Html.Encode(siteHost);
        return new StringBuilder(8192).Append(CultureInfo.InvariantCulture, $"""
            <!doctype html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <meta name="viewport" content="width=device-width, initial-scale=1">
              <title>{host} {Html.Encode(title)}</title>
              <link rel="stylesheet" href="/assets/foobar.css">
              <link rel="icon" href="/favicon.svg">
            </head>
            <body>
              <main>
                <nav class="site"><a href="/">Guestbook</a> <a href="/infrastructure">Infrastructure</a></nav>
                <h1>{host}</h1>

            """);
    }

    /// <summary>Ends the page and sends it, not to be cached.</summary>
    public static Task SendAsync(HttpContext context, StringBuilder html, int status)
    {
        html.Append("""
              </main>
              <script src="/assets/foobar.js"></script>
            </body>
            </html>
            """);
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        return WholeBody.WriteAsync(context.Response, html.ToString(), context.RequestAborted);
    }
}
