namespace Foobar.Http.Forwarder;

/// <summary>
/// Headers that describe one connection and must not be forwarded (RFC 9110 §7.6.1): the fixed
/// ones, and any the message's own Connection header names.
/// </summary>
/// <remarks>
/// Kestrel keeps only <c>close</c>, <c>keep-alive</c> and <c>upgrade</c> of a client's Connection
/// header, so the names a client lists there cannot be known and reach the backend; a backend's
/// are honoured.
/// </remarks>
internal static class HopByHopHeaders
{
    private static readonly HashSet<string> Names = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
        "TE", "Trailer", "Transfer-Encoding", "Upgrade",
    };

    /// <summary>Whether <paramref name="name"/> is hop-by-hop in a message whose Connection header is <paramref name="connection"/>.</summary>
    public static bool Contains(string name, ReadOnlySpan<char> connection)
    {
        if (Names.Contains(name))
        {
            return true;
        }
        foreach (var range in connection.Split(','))
        {
            if (connection[range].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }
}
