using System.Globalization;
using Foobar.App.Pages;
using Foobar.App.Limits;
using Foobar.Data;
using Foobar.Http;
using Foobar.MySql;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

using static Foobar.App.Pages.Layout;

namespace Foobar.App.Guestbook;

/// <summary>
/// The guestbook as people use it: <c>GET /</c> shows the form and the latest entries (read from
/// a replica, ten a page, older ones by <c>?before=ID</c>), <c>POST /sign</c> takes the form
/// (written to the primary) and answers 303 to the page, where the new entry is visible at once
/// (read-your-writes through the GTID cookie). Every text from a person is HTML-encoded.
/// </summary>
public static class GuestbookPage
{
    /// <summary>Entries per page.</summary>
    public const int PageSize = 10;

    /// <summary>Largest form body accepted, in bytes.</summary>
    public const int MaxFormBytes = 16 * 1024;

    /// <summary><c>GET /</c>.</summary>
    public static async Task HomeAsync(HttpContext context, AppOptions options)
    {
        var beforeText = context.Request.Query["before"].ToString();
        long? before = null;
        if (beforeText.Length > 0)
        {
            if (!long.TryParse(beforeText, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id < 1)
            {
                ServedBy.Set(context.Response, options.ServerName, null);
                await RenderAsync(context, options, new Page { Problem = $"'{beforeText}' is not a page of this guestbook" }, StatusCodes.Status400BadRequest);
                return;
            }
            before = id;
        }
        var page = await ReadAsync(context, options, before);
        await RenderAsync(context, options, page, StatusCodes.Status200OK);
    }

    /// <summary><c>POST /sign</c>, form-encoded <c>name</c>, <c>message</c> and the anti-forgery token.</summary>
    public static async Task SignAsync(HttpContext context, AppOptions options)
    {
        ServedBy.Set(context.Response, options.ServerName, null);
        if (!context.Request.HasFormContentType)
        {
            await RenderAsync(context, options, new Page { Problem = "the guestbook takes a form (application/x-www-form-urlencoded)" }, StatusCodes.Status415UnsupportedMediaType);
            return;
        }
        if (context.Request.ContentLength > MaxFormBytes)
        {
            await RenderAsync(context, options, new Page { Problem = $"the form may have at most {MaxFormBytes} bytes" }, StatusCodes.Status413PayloadTooLarge);
            return;
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxFormBytes;
        }
        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException)
        {
            await RenderAsync(context, options, new Page { Problem = $"the form could not be read: {e.Message}" }, StatusCodes.Status400BadRequest);
            return;
        }
        var name = form["name"].ToString().Trim();
        var message = form["message"].ToString().Trim();
        if (!AntiForgery.IsValid(context, form[AntiForgery.FieldName]))
        {
            await RenderAsync(context, options, new Page { Name = name, Message = message, Problem = "this form is not from this page any more (or came from another site): sign again below" },
                StatusCodes.Status403Forbidden);
            return;
        }
        if (EntryRules.Problem(name, message) is { } problem)
        {
            await RenderAsync(context, options, new Page { Name = name, Message = message, Problem = problem }, StatusCodes.Status422UnprocessableEntity);
            return;
        }
        if (options.Entries is not { } store)
        {
            await RenderAsync(context, options, new Page { Name = name, Message = message, Problem = "this site has no database to write to" }, StatusCodes.Status503ServiceUnavailable);
            return;
        }
        try
        {
            var allowance = WriteAllowance.For(context, options);
            var written = await store.AddAsync(name, message, allowance, context.RequestAborted);
            ServedBy.Set(context.Response, options.ServerName, written.ServedBy);
            if (written.Value.Id is not { } id)
            {
                await RenderAsync(context, options, new Page { Name = name, Message = message, Problem = WriteAllowance.Refuse(context, allowance!.Value, written.Value.RetryAfter) },
                    StatusCodes.Status429TooManyRequests);
                return;
            }
            EntriesApi.RememberWrite(context, written.Gtid);
            context.Response.StatusCode = StatusCodes.Status303SeeOther;
            context.Response.Headers.Location = $"/#entry-{id}";
        }
        catch (Exception e) when (DbFailures.IsUnavailable(e))
        {
            context.Response.Headers.RetryAfter = "1";
            await RenderAsync(context, options, new Page { Name = name, Message = message, Problem = $"the entry could not be written just now ({e.Message}); try again in a moment" },
                StatusCodes.Status503ServiceUnavailable);
        }
    }

    /// <summary>The entries of one page; the page still renders when the database does not answer.</summary>
    private static async Task<Page> ReadAsync(HttpContext context, AppOptions options, long? before)
    {
        if (options.Entries is not { } store)
        {
            ServedBy.Set(context.Response, options.ServerName, null);
            return new Page { Unavailable = "this site has no database" };
        }
        try
        {
            var result = await store.LatestAsync(PageSize + 1, EntriesApi.SessionGtid(context), context.RequestAborted, before);
            ServedBy.Set(context.Response, options.ServerName, result.ServedBy);
            return new Page { Entries = result.Value.Take(PageSize).ToList(), Older = result.Value.Count > PageSize ? result.Value[PageSize - 1].Id : null, Before = before };
        }
        catch (Exception e) when (DbFailures.IsUnavailable(e))
        {
            ServedBy.Set(context.Response, options.ServerName, null);
            return new Page { Unavailable = "the entries cannot be read just now; reload in a moment" };
        }
    }

    private sealed record Page
    {
        public IReadOnlyList<Entry> Entries { get; init; } = [];

        /// <summary>The id to pass as <c>before</c> for the next page; null on the last.</summary>
        public long? Older { get; init; }

        public long? Before { get; init; }

        public string Name { get; init; } = "";

        public string Message { get; init; } = "";

        public string? Problem { get; init; }

        public string? Unavailable { get; init; }
    }

    private static Task RenderAsync(HttpContext context, AppOptions options, Page page, int status)
    {
        var token = AntiForgery.TokenFor(context);
        var html = Layout.Begin(options.SiteHost, "guestbook");
        html.Append(CultureInfo.InvariantCulture, $"""
                <p class="path">Made by application server <strong>{Html.Encode(options.ServerName)}</strong>. The response header
                <code>X-Served-By</code> names every server on the way; reload to watch the load balancer take turns,
                or see <a href="/infrastructure">the path of a request next to the whole site</a>.</p>
                <h2>Sign the guestbook</h2>
            """);
        if (page.Problem is { } problem)
        {
            html.Append(CultureInfo.InvariantCulture, $"""<p class="problem" role="alert">{Html.Encode(problem)}</p>""").Append('\n');
        }
        html.Append(CultureInfo.InvariantCulture, $"""
                <form method="post" action="/sign" class="sign">
                  <input type="hidden" name="{AntiForgery.FieldName}" value="{token}">
                  <label>Name <input name="name" required maxlength="{EntryRules.MaxName}" value="{Html.Encode(page.Name)}" autocomplete="name"></label>
                  <label>Message <textarea name="message" required maxlength="{EntryRules.MaxMessage}" rows="3">{Html.Encode(page.Message)}</textarea></label>
                  <button type="submit">Sign</button>
                </form>
                <h2>{(page.Before is null ? "Latest entries" : "Older entries")}</h2>
            """);
        if (page.Unavailable is { } unavailable)
        {
            html.Append(CultureInfo.InvariantCulture, $"""<p class="problem">{Html.Encode(unavailable)}</p>""").Append('\n');
        }
        else if (page.Entries.Count == 0)
        {
            html.Append("<p class=\"path\">No entries yet: be the first.</p>\n");
        }
        html.Append("<ol class=\"entries\">\n");
        foreach (var entry in page.Entries)
        {
            html.Append(CultureInfo.InvariantCulture, $"""
                <li id="entry-{entry.Id}"><p class="message">{Html.Encode(entry.Message)}</p>
                <p class="path">— {Html.Encode(entry.Name)}, {entry.CreatedAt:yyyy-MM-dd HH:mm} UTC, written by {Html.Encode(entry.WrittenBy)}</p></li>
                """).Append('\n');
        }
        html.Append("</ol>\n<nav class=\"pages\">");
        if (page.Before is not null)
        {
            html.Append("<a href=\"/\">Latest</a> ");
        }
        if (page.Older is { } older)
        {
            html.Append(CultureInfo.InvariantCulture, $"<a href=\"/?before={older}\" rel=\"next\">Older entries</a>");
        }
        html.Append("</nav>\n");
        return Layout.SendAsync(context, html, status);
    }
}
