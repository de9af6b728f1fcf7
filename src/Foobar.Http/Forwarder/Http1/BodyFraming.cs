namespace Foobar.Http.Forwarder.Http1;

/// <summary>How the end of a response body is known (RFC 9112 §6.3).</summary>
internal enum BodyFraming
{
    /// <summary>No body: a response to HEAD, a 1xx, 204 or 304.</summary>
    None,

    /// <summary>Exactly <see cref="ResponseHead.ContentLength"/> bytes.</summary>
    ContentLength,

    /// <summary>Chunked transfer coding, ended by a zero-size chunk.</summary>
    Chunked,

    /// <summary>Everything until the backend closes the connection, which then cannot be reused.</summary>
    UntilClose,
}
