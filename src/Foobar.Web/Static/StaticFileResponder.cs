using System.Globalization;
using Foobar.Http.Front;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Foobar.Web.Static;

/// <summary>
/// Answers a GET or HEAD with a <see cref="StaticFile"/>: preconditions (412), conditional
/// requests (304), a single byte range (206, 416), a precompressed or compressed form when the
/// client accepts it, and the validators and caching headers a browser or cache needs.
/// </summary>
public static class StaticFileResponder
{
    /// <summary>Writes the response for <paramref name="file"/>; <paramref name="cacheControl"/> is sent when not null.</summary>
    public static Task ServeAsync(HttpContext context, StaticFile file, string? cacheControl)
    {
        var request = context.Request;
        var response = context.Response;
        var headers = request.Headers;
        var ranged = headers.ContainsKey(HeaderNames.Range) && HttpMethods.IsGet(request.Method);
        // Ranges are served from the file as it is; otherwise the smallest form the client takes.
        var encoded = ranged || !file.HasEncodings ? null : Choose(file, headers.AcceptEncoding.ToString());
        var etag = encoded?.ETag ?? file.ETag;

        if (!PreconditionsHold(headers, etag, file.LastModified))
        {
            response.StatusCode = StatusCodes.Status412PreconditionFailed;
            return Task.CompletedTask;
        }
        response.Headers.ETag = etag;
        response.Headers.LastModified = file.LastModifiedHeader;
        if (cacheControl is not null)
        {
            response.Headers.CacheControl = cacheControl;
        }
        if (file.HasEncodings)
        {
            response.Headers.Vary = HeaderNames.AcceptEncoding;
        }
        if (NotModified(headers, etag, file.LastModified))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }
        response.ContentType = file.ContentType;
        response.Headers.AcceptRanges = "bytes";
        if (encoded is not null)
        {
            response.Headers.ContentEncoding = encoded.Coding;
            return SendAsync(context, encoded.Bytes, encoded.FilePath ?? file.Path, 0, encoded.Length);
        }
        if (ranged && RangeStillValid(headers, file))
        {
            switch (ByteRange.Parse(headers.Range.ToString(), file.Length, out var range))
            {
                case ByteRange.Outcome.Partial:
                    response.StatusCode = StatusCodes.Status206PartialContent;
                    response.Headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes {range.Start}-{range.Start + range.Length - 1}/{file.Length}");
                    return SendAsync(context, file.Body, file.Path, range.Start, range.Length);
                case ByteRange.Outcome.Unsatisfiable:
                    response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                    response.Headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes */{file.Length}");
                    response.ContentType = null;
                    return Task.CompletedTask;
            }
        }
        return SendAsync(context, file.Body, file.Path, 0, file.Length);
    }

    /// <summary>
    /// The answer <see cref="Http1Front"/> sends for <paramref name="file"/> without Kestrel: the
    /// same status and headers as <see cref="ServeAsync"/> gives a request with no range and no
    /// precondition beyond a cache's (If-None-Match, If-Modified-Since: 200 or 304), made once
    /// per representation. Null when the request needs more (a range, If-Match,
    /// If-Unmodified-Since, If-Range) or the bytes are not in memory: then <see cref="ServeAsync"/> answers it.
    /// </summary>
    public static FrontFile? FrontAnswer(StaticFile file, IFrontRequest request, string? cacheControl)
    {
        if (request.HasRangeOrPrecondition)
        {
            return null;
        }
        var encoded = file.HasEncodings ? Choose(file, request.AcceptEncoding) : null;
        var etag = encoded?.ETag ?? file.ETag;
        var notModified = NotModified(request.IfNoneMatch, request.IfModifiedSince, etag, file.LastModified);
        var slot = (encoded is null ? 0 : ReferenceEquals(encoded, file.Brotli) ? 1 : 2) + (notModified ? 3 : 0);
        if (file.FrontAnswers[slot] is { } made && made.CacheControl == cacheControl)
        {
            return made.File;
        }
        (string, string?)[] validators =
        [
            (HeaderNames.ETag, etag),
            (HeaderNames.LastModified, file.LastModifiedHeader),
            (HeaderNames.CacheControl, cacheControl),
            (HeaderNames.Vary, file.HasEncodings ? HeaderNames.AcceptEncoding : null),
        ];
        FrontFile answer;
        if (notModified)
        {
            answer = FrontFile.NotModified(validators);
        }
        else if ((encoded is null ? file.Body : encoded.Bytes) is { } bytes)
        {
            answer = new FrontFile(bytes, [
                (HeaderNames.ContentType, file.ContentType),
                (HeaderNames.AcceptRanges, "bytes"),
                (HeaderNames.ContentEncoding, encoded?.Coding),
                .. validators]);
        }
        else
        {
            return null;
        }
        file.FrontAnswers[slot] = new StaticFile.Answer(cacheControl, answer);
        return answer;
    }

    private static StaticFile.Encoded? Choose(StaticFile file, string acceptEncoding)
    {
        if (acceptEncoding.Length == 0)
        {
            return null;
        }
        if (file.Brotli is { } brotli && AcceptEncoding.Accepts(acceptEncoding, "br"))
        {
            return brotli;
        }
        return file.Gzip is { } gzip && AcceptEncoding.Accepts(acceptEncoding, "gzip") ? gzip : null;
    }

    /// <summary>If-Match (strong comparison) or, without it, If-Unmodified-Since.</summary>
    private static bool PreconditionsHold(IHeaderDictionary headers, string etag, DateTimeOffset lastModified)
    {
        if (headers.IfMatch.Count > 0)
        {
            return Matches(headers.IfMatch, etag, strong: true);
        }
        if (headers.IfUnmodifiedSince.Count > 0 && HeaderUtilities.TryParseDate(headers.IfUnmodifiedSince.ToString(), out var since))
        {
            return lastModified <= since;
        }
        return true;
    }

    /// <summary>If-None-Match (weak comparison) or, without it, If-Modified-Since.</summary>
    private static bool NotModified(IHeaderDictionary headers, string etag, DateTimeOffset lastModified) =>
        NotModified(headers.IfNoneMatch.ToString(), headers.IfModifiedSince.ToString(), etag, lastModified);

    /// <summary>If-None-Match (weak comparison) or, without it, If-Modified-Since; each empty when absent.</summary>
    private static bool NotModified(string ifNoneMatch, string ifModifiedSince, string etag, DateTimeOffset lastModified)
    {
        if (ifNoneMatch.Length > 0)
        {
            return Matches(ifNoneMatch, etag, strong: false);
        }
        return ifModifiedSince.Length > 0
            && HeaderUtilities.TryParseDate(ifModifiedSince, out var since)
            && lastModified <= since;
    }

    /// <summary>If-Range: the range applies only to the representation the client has (same strong ETag, or exactly its date).</summary>
    private static bool RangeStillValid(IHeaderDictionary headers, StaticFile file)
    {
        var ifRange = headers.IfRange.ToString().Trim();
        if (ifRange.Length == 0)
        {
            return true;
        }
        if (ifRange.StartsWith('"') || ifRange.StartsWith("W/", StringComparison.Ordinal))
        {
            return ifRange == file.ETag;
        }
        return HeaderUtilities.TryParseDate(ifRange, out var date) && date == file.LastModified;
    }

    private static bool Matches(Microsoft.Extensions.Primitives.StringValues values, string etag, bool strong)
    {
        if (!EntityTagHeaderValue.TryParseList(values, out var tags))
        {
            return false;
        }
        var ours = new EntityTagHeaderValue(etag);
        foreach (var tag in tags)
        {
            if (tag.Equals(EntityTagHeaderValue.Any) || tag.Compare(ours, useStrongComparison: strong))
            {
                return true;
            }
        }
        return false;
    }

    private static Task SendAsync(HttpContext context, byte[]? bytes, string path, long offset, long length)
    {
        context.Response.ContentLength = length;
        if (HttpMethods.IsHead(context.Request.Method) || length == 0)
        {
            return Task.CompletedTask;
        }
        if (bytes is not null)
        {
            return context.Response.Body.WriteAsync(bytes, (int)offset, (int)length, context.RequestAborted);
        }
        return context.Response.SendFileAsync(path, offset, length, context.RequestAborted);
    }
}
