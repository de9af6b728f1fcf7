namespace Foobar.Server.Admin;

/// <summary>Paths on every server's admin listener.</summary>
public static class AdminPaths
{
    /// <summary><c>GET</c>: a <see cref="ServerHealthReport"/>.</summary>
    public const string Health = "/healthz";

    /// <summary><c>POST</c> on app servers: the db primary changed; answers a <see cref="PrimaryChangedReply"/>.</summary>
    public const string PrimaryChanged = "/db/primary-changed";

    /// <summary>
    /// On a front server, for its <paramref name="front"/> role (lb or web): <c>GET</c> the servers
    /// behind it (<see cref="BackendStatus"/>); <c>POST {path}/NAME/drain</c> or <c>/ready</c> to
    /// stop or resume sending one of them new requests. <c>/lb/servers</c>, <c>/web/servers</c>.
    /// </summary>
    public static string ServersBehind(string front) => $"/{front}/servers";

    /// <summary>
    /// <c>GET</c>: Prometheus metrics: the process's and the runtime's (<see cref="ProcessMetrics"/>)
    /// on every server; on load balancers then those of their web servers.
    /// </summary>
    public const string Metrics = "/metrics";

    /// <summary><c>GET</c> on load balancers: the statistics page, HTML.</summary>
    public const string Stats = "/stats";

    /// <summary>
    /// <c>POST</c>: read the topology again and follow its servers (the load balancers their web
    /// servers, the web servers their app servers); answers a <see cref="ServerHealthReport"/>.
    /// </summary>
    public const string TopologyReload = "/topology/reload";
}
