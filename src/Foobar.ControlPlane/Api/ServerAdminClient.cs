namespace Foobar.ControlPlane.Api;

/// <summary>
/// The HTTP client the control plane talks to servers' admin listeners with (health, the db
/// primary's news, load balancer drains): no proxy, a 1 s connect timeout (a live server on one
/// machine or a LAN accepts in milliseconds).
/// </summary>
internal static class ServerAdminClient
{
    /// <summary>A client whose every call is bounded by <paramref name="timeout"/>.</summary>
    public static HttpClient Create(TimeSpan timeout) =>
        new(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(1) }) { Timeout = timeout };
}
