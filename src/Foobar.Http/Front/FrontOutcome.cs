namespace Foobar.Http.Front;

/// <summary>How a connection goes on after <see cref="Http1Front"/> answered a request.</summary>
internal enum FrontOutcome
{
    /// <summary>It may carry the next request.</summary>
    KeepAlive,

    /// <summary>It closes once the response is sent (the client asked, the body ended with the backend's connection, the client is gone).</summary>
    Close,

    /// <summary>It is cut: the response broke off after its head was sent, and only a reset tells the client.</summary>
    Abort,
}
