namespace Foobar.Http.Forwarder;

/// <summary>
/// A site's own pages for the errors a server answers itself (nginx's <c>error_page</c>): when a
/// request's features hold one, <see cref="ErrorResponse"/> sends its page for the status instead
/// of the plain-text reason.
/// </summary>
public interface IErrorPages
{
    /// <summary>The page for <paramref name="status"/>; false to answer with the plain-text reason.</summary>
    bool TryGet(int status, out ReadOnlyMemory<byte> body, out string contentType);
}
