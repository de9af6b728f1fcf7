namespace Foobar.Server.Admin;

/// <summary>Paths on every server's admin listener.</summary>
public static class AdminPaths
{
    /// <summary><c>GET</c>: a <see cref="ServerHealthReport"/>.</summary>
    public const string Health = "/healthz";

    /// <summary><c>POST</c> on app servers: the db primary changed; answers a <see cref="PrimaryChangedReply"/>.</summary>
    public const string PrimaryChanged = "/db/primary-changed";

    /// <summary>On load balancers: <c>GET</c> the web servers (<see cref="LbBackendStatus"/>);
    /// <c>POST {prefix}/NAME/drain</c> or <c>/ready</c> to stop or resume sending it new requests.</summary>
    public const string LbServers = "/lb/servers";

    /// <summary><c>GET</c> on load balancers: Prometheus metrics of the web servers.</summary>
    public const string Metrics = "/metrics";

    /// <summary><c>GET</c> on load balancers: the statistics page, HTML.</summary>
    public const string Stats = "/stats";

    /// <summary>
    /// <c>POST</c>: read the topology again and follow its servers (the load balancers their web
    /// servers, the web servers their app servers); answers a <see cref="ServerHealthReport"/>.
    /// </summary>
    public const string TopologyReload = "/topology/reload";
}
