using System.Net;
using Foobar.Data;
using Foobar.Http.Backends;
using Foobar.Http.LoadBalancing;
using Foobar.Http.Passthrough;
using Foobar.Topology;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Foobar.Server.Apps;

/// <summary>
/// Your own application's way to the db primary (<c>FOOBAR_DB_PRIMARY</c>): a port on the app
/// server's own address (<c>app.db_primary_port</c>) whose connections are passed, unread, to
/// whichever db server is the primary now, as this server's <see cref="DbRouter"/> sees it
/// (MaxScale's idea, in layer 4). After a failover or switchover new connections reach the new
/// primary without the application being told or restarted; those open to the old one end with
/// it (the orchestrator fences it), as they would anywhere. Connections come from the app
/// server's address, which the application account is granted from.
/// </summary>
internal sealed partial class PrimaryEndpoint
{
    private static readonly TimeSpan FollowInterval = TimeSpan.FromMilliseconds(200);

    private readonly Topology.Topology _topology;
    private readonly DbRouter _db;
    private readonly ILogger _logger;
    private readonly BackendPool _primary = new([], new RoundRobinPolicy());
    private readonly TcpPassthrough _passthrough;

    public PrimaryEndpoint(Topology.Topology topology, ServerSpec server, DbRouter db, ILogger logger)
    {
        _topology = topology;
        _db = db;
        _logger = logger;
        EndPoint = new IPEndPoint(server.Address, topology.App.DbPrimaryPort);
        _passthrough = new TcpPassthrough(_primary, logger)
        {
            ProxyHeaders = false,
            LocalAddress = server.Address,
            // A database client keeps pooled connections open for long: MariaDB's own wait_timeout.
            IdleTimeout = TimeSpan.FromHours(8),
        };
    }

    /// <summary>Where the application connects: this server's address and <c>app.db_primary_port</c>.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>The db server connections go to now; null when no primary is known.</summary>
    public string? Target => _primary.Backends.FirstOrDefault()?.Name;

    /// <summary>Adds the listener; its connections are passed through, never read as HTTP.</summary>
    public void Listen(KestrelServerOptions kestrel) => kestrel.Listen(EndPoint, _passthrough.Use);

    /// <summary>Follows the router's primary until <paramref name="cancellationToken"/>.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(FollowInterval);
        do
        {
            Follow();
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Points the pool at the primary of the moment. A primary the passthrough found refusing is
    /// marked down; it is put back up here, so a restarted primary is reached again within a tick.
    /// </summary>
    private void Follow()
    {
        var primary = _db.Primary is { } name ? _topology.Find(name) : null;
        var current = _primary.Backends.FirstOrDefault();
        if (primary is null)
        {
            if (current is not null)
            {
                _primary.Replace([]);
                LogTarget(_logger, EndPoint, "no db server (no primary known)");
            }
            return;
        }
        if (current?.Name == primary.Name && current.State == BackendState.Up)
        {
            return;
        }
        _primary.Replace([new Backend(primary.Name, new Uri($"tcp://{primary.Address}:{_topology.Db.Port}/"))]);
        if (current?.Name != primary.Name)
        {
            LogTarget(_logger, EndPoint, $"{primary.Name} ({primary.Address}:{_topology.Db.Port})");
        }
    }

    [LoggerMessage(EventId = 2300, Level = LogLevel.Information, Message = "db primary endpoint {EndPoint} now leads to {Target}")]
    private static partial void LogTarget(ILogger logger, IPEndPoint endPoint, string target);
}
