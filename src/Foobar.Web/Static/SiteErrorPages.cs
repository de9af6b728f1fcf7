using Foobar.Http.Forwarder;

namespace Foobar.Web.Static;

/// <summary>
/// The site's error pages, nginx's convention: <c>404.html</c> for 404 and <c>50x.html</c> for
/// every 5xx the web server answers itself (no app server answered). Pages are files of the site
/// root like any other, so an edit shows within the cache's revalidation time.
/// </summary>
public sealed class SiteErrorPages(StaticFileCache files) : IErrorPages
{
    /// <inheritdoc />
    public bool TryGet(int status, out ReadOnlyMemory<byte> body, out string contentType)
    {
        var page = status switch
        {
            404 => files.Get("/404.html"),
            >= 500 and <= 599 => files.Get("/50x.html"),
            _ => null,
        };
        if (page?.Body is { } bytes)
        {
            body = bytes;
            contentType = page.ContentType;
            return true;
        }
        body = default;
        contentType = "";
        return false;
    }
}
