using System.Net;
using System.Text;
using Foobar.Http;
using Foobar.Http.Forwarder;
using Foobar.Http.Health;
using Foobar.Http.Transport;
using Foobar.LoadBalancer.Stats;
using Foobar.Server.Admin;
using Foobar.Server.Processes;
using Foobar.Server.Roles;
using Foobar.Topology;
using Foobar.Topology.Loading;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Foobar.Server;

/// <summary>
/// Runs one server of a topology (<c>foobar serve NAME</c>): binds only the server's own address,
/// with the admin listener on <c>admin.port</c> and one listener per HTTP role.
/// </summary>
public static class ServerHost
{
    /// <summary>Serves until SIGTERM/SIGINT or <paramref name="cancellationToken"/>.</summary>
    /// <param name="topology">The infrastructure.</param>
    /// <param name="serverName">Which of its servers this process is.</param>
    /// <param name="paths">Where the server keeps its files.</param>
    /// <param name="cancellationToken">Stops the server.</param>
    /// <param name="reload">Reads the topology again, for <c>POST /topology/reload</c>; null: the route is not offered.</param>
    /// <exception cref="ArgumentException"><paramref name="serverName"/> is not in the topology.</exception>
    /// <exception cref="RoleFailedException">A role's background work failed (mariadbd would not start, or died).</exception>
    public static async Task RunAsync(Topology.Topology topology, string serverName, ServerPaths paths, CancellationToken cancellationToken,
        Func<Topology.Topology>? reload = null)
    {
        var server = topology.Find(serverName)
            ?? throw new ArgumentException($"no server '{serverName}' in the topology; servers: {string.Join(", ", topology.Servers.Select(s => s.Name))}", nameof(serverName));

        // Before any role makes a socket (an app server's database connections among them).
        KestrelSettings.PreferInlineCompletions();
        if (topology.WorkersOf(server) is { } workers)
        {
            EpollTransport.UseLoops(workers);
        }
        // The roles exist before the host is built: their listeners go into Kestrel's options.
        using var loggerFactory = LoggerFactory.Create(ConfigureLogging);
        var logger = loggerFactory.CreateLogger($"Foobar.Server.{server.Name}");
        var tls = new SiteTls(topology, paths);
        var roles = CreateRoles(topology, server, paths, tls, loggerFactory, logger);

        var builder = QuietHost.CreateBuilder(topology.BaseDirectory);
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        builder.Services.AddSingleton<IHostLifetime, SignalFreeLifetime>();

        // A load balancer's clients are the public's: its idle timeout is the topology's timeout_client.
        KestrelSettings.Apply(builder.WebHost, server.Roles.Contains(Role.Lb) ? topology.Lb.TimeoutClient : null, kestrel =>
        {
            kestrel.Listen(topology.AdminEndPoint(server));
            foreach (var role in roles)
            {
                role.Listen(kestrel);
            }
        });

        var app = builder.Build();
        var startedAt = DateTimeOffset.UtcNow;
        app.MapWhen(c => c.Connection.LocalPort == topology.Admin.Port, admin => admin.Run(c => AdminAsync(c, server, roles, startedAt, reload)));
        foreach (var role in roles)
        {
            foreach (var port in role.Ports)
            {
                app.MapWhen(c => c.Connection.LocalPort == port, role.Configure);
            }
        }

        // SIGTERM and SIGINT from here on: this server's to handle (the host's lifetime ignores them).
        using var signal = new ShutdownSignal(fromParent: true);
        using var told = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, signal.Token);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
        var failures = new List<Exception>();
        var background = Task.WhenAll(roles.Select(r => RunRoleAsync(r, failures, lifetime, logger, stopping.Token)));
        await WaitForStopAsync(told.Token, lifetime.ApplicationStopping).ConfigureAwait(false);
        if (signal.Token.IsCancellationRequested && !signal.Interrupted && !lifetime.ApplicationStopping.IsCancellationRequested
            && LameDuck(topology, server) is { } longest)
        {
            // SIGTERM from outside the control plane: out of rotation first, then close.
            ServerLeaving.Begin(TimeProvider.System);
            logger.LogInformation("Stopping: the check answers 503 until no request has come for {Quiet} s (at most {Longest} s), so the tier in front takes this server out first",
                LameDuckQuiet.TotalSeconds, longest.TotalSeconds);
            var waited = await ServerLeaving.WaitUntilOutAsync(LameDuckQuiet, longest, TimeProvider.System).ConfigureAwait(false);
            logger.LogInformation("Out of rotation after {Waited:0.0} s; stopping", waited.TotalSeconds);
        }
        await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await stopping.CancelAsync().ConfigureAwait(false);
        await background.ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
        // Only now: the requests in flight at the stop have finished with what they use.
        foreach (var role in roles.OfType<IAsyncDisposable>())
        {
            await role.DisposeAsync().ConfigureAwait(false);
        }
        if (failures.Count > 0)
        {
            throw new RoleFailedException(server.Name, failures);
        }
    }

    /// <summary>No request for this long while its check fails: the tier in front has taken the server out.</summary>
    private static readonly TimeSpan LameDuckQuiet = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a stopping server may stay a lame duck (<see cref="ServerLeaving"/>): until the
    /// checks of the tier in front have failed often enough to take it down, and half a second
    /// more; null for a server nobody in front checks through a path it answers (a load balancer,
    /// a database, an app server running an application of one's own, which answers its own checks).
    /// </summary>
    private static TimeSpan? LameDuck(Topology.Topology topology, ServerSpec server)
    {
        TimeSpan? longest = null;
        if (server.Has(Role.Web))
        {
            longest = topology.Lb.CheckInterval * topology.Lb.CheckFall + TimeSpan.FromMilliseconds(500);
        }
        if (server.Has(Role.App) && topology.App.Command is null)
        {
            var app = topology.Web.CheckInterval * new HealthCheckOptions().Fall + TimeSpan.FromMilliseconds(500);
            longest = longest is { } web && web > app ? web : app;
        }
        return longest;
    }

    /// <summary>Until <paramref name="told"/> (SIGTERM, Ctrl+C) or <paramref name="stopping"/> (a role failed, or the admin API stopped it).</summary>
    private static async Task WaitForStopAsync(CancellationToken told, CancellationToken stopping)
    {
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var a = told.UnsafeRegister(static s => ((TaskCompletionSource)s!).TrySetResult(), stop);
        using var b = stopping.UnsafeRegister(static s => ((TaskCompletionSource)s!).TrySetResult(), stop);
        await stop.Task.ConfigureAwait(false);
    }

    /// <summary>A role whose background work fails takes the whole server down, so its supervisor restarts it.</summary>
    private static async Task RunRoleAsync(IRoleHost role, List<Exception> failures, IHostApplicationLifetime lifetime, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            await role.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            logger.LogError("{Role} failed: {Message}", role.Role.Name(), e.Message);
            lock (failures)
            {
                failures.Add(e);
            }
            lifetime.StopApplication();
        }
    }

    /// <summary>
    /// One line per message with a timestamp, no colours. ASP.NET Core logs two lines per request
    /// at Information: synchronous console writes on the request path that cut a web server's
    /// throughput tenfold (measured: 6,400 requests/s). Requests belong in an access log written
    /// off the request path, not in the server log.
    /// </summary>
    private static void ConfigureLogging(ILoggingBuilder logging)
    {
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-dd HH:mm:ss.fff ";
            o.ColorBehavior = LoggerColorBehavior.Disabled;
        });
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
    }

    private static List<IRoleHost> CreateRoles(Topology.Topology topology, ServerSpec server, ServerPaths paths, SiteTls tls, ILoggerFactory loggers, ILogger logger)
    {
        // The web role's forwarder to the app servers, which speak HTTP/2 as every Foobar server
        // does; an application of one's own is only expected to speak HTTP/1.1. Connections to the
        // tier behind come from this server's own address, so that tier knows who forwarded.
        var forwarder = new HttpForwarder(ForwarderClient.Create(authority: tls.HopAuthority, localAddress: server.Address), loggers.CreateLogger<HttpForwarder>())
        {
            Http2Backends = topology.App.Command is null,
            LocalAddress = server.Address,
        };
        var checks = ForwarderClient.Create(TimeSpan.FromSeconds(1), tls.HopAuthority, server.Address);
        return server.Roles.Select(role => role switch
        {
            Role.Lb => (IRoleHost)new LbRoleHost(topology, server, tls, checks, loggers.CreateLogger<HttpForwarder>(), logger),
            Role.Web => new WebRoleHost(topology, server, paths, tls, forwarder, checks, logger),
            Role.App => new AppRoleHost(topology, server, paths, tls, checks, logger),
            Role.Db => new DbRoleHost(topology, server, paths, logger),
            Role.Dns => new DnsRoleHost(topology, server, logger),
            _ => throw new ArgumentOutOfRangeException(nameof(server), role, "unknown role"),
        }).ToList();
    }

    /// <summary>
    /// The admin listener: <c>GET /healthz</c> for the control plane's checks, <c>GET /metrics</c>
    /// for Prometheus (<see cref="AdminPaths.Metrics"/>), and on app servers
    /// <c>POST /db/primary-changed</c>, the control plane's news of a new db primary.
    /// </summary>
    private static async Task AdminAsync(HttpContext context, ServerSpec server, List<IRoleHost> roles, DateTimeOffset startedAt, Func<Topology.Topology>? reload)
    {
        var lb = roles.OfType<LbRoleHost>().FirstOrDefault();
        switch (context.Request.Method, context.Request.Path.Value)
        {
            case ("GET" or "HEAD", AdminPaths.Health):
                await AdminHealth(context, server, roles, startedAt).ConfigureAwait(false);
                return;
            case ("GET", AdminPaths.Metrics):
                var metrics = ProcessMetrics.Render(new StringBuilder());
                if (lb is not null)
                {
                    metrics.Append(lb.Metrics());
                }
                context.Response.ContentType = PrometheusMetrics.ContentType;
                await context.Response.WriteAsync(metrics.ToString(), context.RequestAborted).ConfigureAwait(false);
                return;
            case ("GET", AdminPaths.Stats) when lb is not null:
                context.Response.ContentType = "text/html; charset=utf-8";
                await context.Response.WriteAsync(lb.StatsPage(), context.RequestAborted).ConfigureAwait(false);
                return;
            case ("GET", { } path) when FrontFor(roles, path) is { } front && path == AdminPaths.ServersBehind(front.Role.Name()):
                await context.Response.WriteAsJsonAsync(front.Backends(), context.RequestAborted).ConfigureAwait(false);
                return;
            case ("POST", { } path) when FrontFor(roles, path) is { } front:
                await SetDrainingAsync(context, front, path).ConfigureAwait(false);
                return;
            case ("POST", AdminPaths.PrimaryChanged) when roles.OfType<AppRoleHost>().FirstOrDefault() is { } app:
                var primary = await app.PrimaryChangedAsync().ConfigureAwait(false);
                await context.Response.WriteAsJsonAsync(new PrimaryChangedReply(server.Name, primary), context.RequestAborted).ConfigureAwait(false);
                return;
            case ("POST", AdminPaths.TopologyReload) when reload is not null:
                await ReloadAsync(context, server, roles, startedAt, reload).ConfigureAwait(false);
                return;
            default:
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
        }
    }

    /// <summary>Every role follows the topology read again; answers the health report as it is then, or 422 naming the topology's problems.</summary>
    private static async Task ReloadAsync(HttpContext context, ServerSpec server, List<IRoleHost> roles, DateTimeOffset startedAt, Func<Topology.Topology> reload)
    {
        Topology.Topology fresh;
        try
        {
            fresh = reload();
        }
        catch (TopologyException e)
        {
            context.Response.StatusCode = StatusCodes.Status422UnprocessableEntity;
            await context.Response.WriteAsync(e.Message + "\n", context.RequestAborted).ConfigureAwait(false);
            return;
        }
        foreach (var role in roles)
        {
            role.ApplyTopology(fresh);
        }
        // 200: the topology was applied. Whether the server is ready (an added server behind it
        // not checked yet) is in the report, not the status.
        await AdminHealth(context, server, roles, startedAt, applied: true).ConfigureAwait(false);
    }

    /// <summary>The front role whose <see cref="AdminPaths.ServersBehind"/> <paramref name="path"/> is, or is under.</summary>
    private static IFrontRole? FrontFor(List<IRoleHost> roles, string path) => roles.OfType<IFrontRole>().FirstOrDefault(f =>
        path == AdminPaths.ServersBehind(f.Role.Name()) || path.StartsWith(AdminPaths.ServersBehind(f.Role.Name()) + "/", StringComparison.Ordinal));

    /// <summary><c>POST {prefix}/NAME/drain</c> or <c>/NAME/ready</c>.</summary>
    private static async Task SetDrainingAsync(HttpContext context, IFrontRole front, string path)
    {
        var prefix = AdminPaths.ServersBehind(front.Role.Name());
        var parts = path[prefix.Length..].TrimStart('/').Split('/');
        if (parts is not [var server, "drain" or "ready"])
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsync($"use POST {prefix}/NAME/drain or /ready\n", context.RequestAborted).ConfigureAwait(false);
            return;
        }
        if (!front.SetDraining(server, parts[1] == "drain"))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsync($"no server '{server}' behind this {front.Role.Name()} server\n", context.RequestAborted).ConfigureAwait(false);
            return;
        }
        await context.Response.WriteAsJsonAsync(front.Backends().Single(b => b.Name == server), context.RequestAborted).ConfigureAwait(false);
    }

    private static Task AdminHealth(HttpContext context, ServerSpec server, List<IRoleHost> roles, DateTimeOffset startedAt, bool applied = false)
    {
        var health = roles.Select(r => r.Health()).ToList();
        var ready = health.All(h => h.State is RoleStates.Ready or RoleStates.Standby);
        var report = new ServerHealthReport(server.Name, Environment.ProcessId, startedAt, ready, health);
        context.Response.StatusCode = ready || applied ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        return context.Response.WriteAsJsonAsync(report, context.RequestAborted);
    }
}
