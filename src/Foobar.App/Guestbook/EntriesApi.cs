using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Foobar.App.Limits;
using Foobar.Data;
using Foobar.Http;
using Foobar.MySql;
using Microsoft.AspNetCore.Http;

namespace Foobar.App.Guestbook;

/// <summary>
/// <c>GET /api/entries</c>, <c>GET /api/entries/{id}</c>, <c>POST /api/entries</c>. A write sets a
/// cookie with its GTID; later reads of the same browser wait for that GTID on the replica, so a
/// person always sees their own entry. <c>X-Served-By</c> ends with the db server that answered.
/// </summary>
public static partial class EntriesApi
{
    /// <summary>The cookie carrying the GTID of this client's last write.</summary>
    public const string GtidCookie = "foobar_gtid";

    public const int MaxBodyBytes = 16 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task HandleAsync(HttpContext context, AppOptions options, string rest)
    {
        var (store, serverName) = (options.Entries, options.ServerName);
        if (store is null)
        {
            await ProblemAsync(context, serverName, StatusCodes.Status503ServiceUnavailable, "No database", "this topology has no db server; add one to use the guestbook");
            return;
        }
        try
        {
            switch (context.Request.Method, rest)
            {
                case ("GET", ""):
                    await ListAsync(context, store, serverName);
                    break;
                case ("POST", ""):
                    await AddAsync(context, options, store);
                    break;
                case ("GET", _) when rest.StartsWith('/') && long.TryParse(rest.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var id):
                    await FindAsync(context, store, serverName, id);
                    break;
                case (_, ""):
                    context.Response.Headers.Allow = "GET, POST";
                    await ProblemAsync(context, serverName, StatusCodes.Status405MethodNotAllowed, "Method not allowed", $"{context.Request.Method} is not allowed on /api/entries; use GET or POST");
                    break;
                case (_, _) when rest.StartsWith('/') && long.TryParse(rest.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out _):
                    context.Response.Headers.Allow = "GET";
                    await ProblemAsync(context, serverName, StatusCodes.Status405MethodNotAllowed, "Method not allowed", $"{context.Request.Method} is not allowed on {context.Request.Path}; use GET");
                    break;
                default:
                    await ProblemAsync(context, serverName, StatusCodes.Status404NotFound, "Not found", $"{context.Request.Path} is not part of the API");
                    break;
            }
        }
        catch (Exception e) when (DbFailures.IsUnavailable(e))
        {
            context.Response.Headers.RetryAfter = "1";
            await ProblemAsync(context, serverName, StatusCodes.Status503ServiceUnavailable, "Database unavailable", e.Message);
        }
    }

    private static async Task ListAsync(HttpContext context, EntryStore store, string serverName)
    {
        var limitText = context.Request.Query["limit"].ToString();
        var limit = 20;
        if (limitText.Length > 0 && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 100))
        {
            await ProblemAsync(context, serverName, StatusCodes.Status400BadRequest, "Bad limit", $"limit '{limitText}' must be a whole number from 1 to 100");
            return;
        }
        var result = await store.LatestAsync(limit, SessionGtid(context), context.RequestAborted);
        await JsonAsync(context, serverName, result.ServedBy, StatusCodes.Status200OK, new { entries = result.Value });
    }

    private static async Task FindAsync(HttpContext context, EntryStore store, string serverName, long id)
    {
        var result = await store.FindAsync(id, SessionGtid(context), context.RequestAborted);
        if (result.Value is null)
        {
            ServedBy.Set(context.Response, serverName, result.ServedBy);
            await ProblemAsync(context, null, StatusCodes.Status404NotFound, "No such entry", $"there is no entry {id}");
            return;
        }
        await JsonAsync(context, serverName, result.ServedBy, StatusCodes.Status200OK, result.Value);
    }

    private static async Task AddAsync(HttpContext context, AppOptions options, EntryStore store)
    {
        var serverName = options.ServerName;
        if (context.Request.ContentLength > MaxBodyBytes)
        {
            await ProblemAsync(context, serverName, StatusCodes.Status413PayloadTooLarge, "Too large", $"the body may have at most {MaxBodyBytes} bytes");
            return;
        }
        if (!(context.Request.ContentType ?? "").StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            await ProblemAsync(context, serverName, StatusCodes.Status415UnsupportedMediaType, "JSON expected", "send Content-Type: application/json with {\"name\": ..., \"message\": ...}");
            return;
        }
        NewEntry? entry;
        try
        {
            entry = await JsonSerializer.DeserializeAsync<NewEntry>(new LimitedStream(context.Request.Body, MaxBodyBytes), Json, context.RequestAborted);
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            await ProblemAsync(context, serverName, StatusCodes.Status400BadRequest, "Malformed JSON", e.Message);
            return;
        }
        var name = entry?.Name?.Trim() ?? "";
        var message = entry?.Message?.Trim() ?? "";
        if (EntryRules.Problem(name, message) is { } problem)
        {
            await ProblemAsync(context, serverName, StatusCodes.Status422UnprocessableEntity, "Invalid entry", problem);
            return;
        }
        var allowance = WriteAllowance.For(context, options);
        var result = await store.AddAsync(name, message, allowance, context.RequestAborted);
        if (result.Value.Id is not { } id)
        {
            ServedBy.Set(context.Response, serverName, result.ServedBy);
            await ProblemAsync(context, null, StatusCodes.Status429TooManyRequests, "Too many entries", WriteAllowance.Refuse(context, allowance!.Value, result.Value.RetryAfter));
            return;
        }
        RememberWrite(context, result.Gtid);
        context.Response.Headers.Location = $"/api/entries/{id}";
        await JsonAsync(context, serverName, result.ServedBy, StatusCodes.Status201Created, new { id, gtid = result.Gtid });
    }

    /// <summary>Sets the cookie with the GTID of this client's write, so its next reads see it (read-your-writes).</summary>
    public static void RememberWrite(HttpContext context, string? gtid)
    {
        if (gtid is not null)
        {
            context.Response.Cookies.Append(GtidCookie, gtid, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Lax, Path = "/" });
        }
    }

    /// <summary>The GTID of this client's last write, when the cookie holds a well-formed one.</summary>
    public static string? SessionGtid(HttpContext context) =>
        context.Request.Cookies[GtidCookie] is { } value && GtidPattern().IsMatch(value) ? value : null;

    [GeneratedRegex(@"^\d{1,10}-\d{1,10}-\d{1,20}$")]
    private static partial Regex GtidPattern();

    private static Task JsonAsync(HttpContext context, string serverName, string db, int status, object body)
    {
        ServedBy.Set(context.Response, serverName, db);
        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentType = "application/json; charset=utf-8";
        return WholeBody.WriteAsync(context.Response, JsonSerializer.SerializeToUtf8Bytes(body, Json), context.RequestAborted);
    }

    private static Task ProblemAsync(HttpContext context, string? serverName, int status, string title, string detail)
    {
        if (serverName is not null)
        {
            ServedBy.Set(context.Response, serverName, null);
        }
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/problem+json";
        return WholeBody.WriteAsync(context.Response, JsonSerializer.SerializeToUtf8Bytes(new { type = "about:blank", title, status, detail }, Json), context.RequestAborted);
    }
}
