using Foobar.Http;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Foobar.LoadBalancer;

/// <summary>
/// Holds the public address for an active-passive pair on one machine: whoever has it bound
/// serves it, the other keeps trying to bind — every <c>retryInterval</c>, or when
/// <see cref="Nudge"/>d (<see cref="WhenNudged"/>: the standby's heartbeat thread probes the address
/// and nudges). When the holder dies the kernel closes its socket and the standby's next attempt succeeds; a holder that comes back finds the address taken
/// and becomes the standby, so there are never two owners.
/// </summary>
/// <remarks>
/// This is the loopback stand-in for a floating IP moved by VRRP (keepalived): the address is the
/// lock. On real hosts the same role would add and remove the address on an interface instead.
/// </remarks>
public sealed partial class PublicAddressClaim(
    IPEndPoint endPoint,
    Action<IApplicationBuilder> configure,
    TimeSpan retryInterval,
    TimeProvider timeProvider,
    ILogger logger) : IAsyncDisposable
{
    /// <summary>
    /// The retry interval of a claim that looks only when <see cref="Nudge"/>d: a standby whose
    /// heartbeat thread probes the address anyway (<see cref="IsFree"/>) on each of its wake-ups,
    /// so no timer and no thread-pool thread wake ten times a second besides.
    /// </summary>
    public static readonly TimeSpan WhenNudged = Timeout.InfiniteTimeSpan;

    private readonly SemaphoreSlim _nudges = new(0, 1);
    private WebApplication? _listener;

    /// <summary>The public address and port.</summary>
    public IPEndPoint EndPoint { get; } = endPoint;

    /// <summary>How long an idle client connection on the public address stays open; null for Kestrel's default.</summary>
    public TimeSpan? IdleTimeout { get; init; }

    /// <summary>An HTTPS endpoint taken and given up together with <see cref="EndPoint"/>; null for none.</summary>
    public IPEndPoint? HttpsEndPoint { get; init; }

    /// <summary>What the plain-HTTP endpoint adds to its connections (the front); null for Kestrel alone.</summary>
    public Action<ListenOptions>? Http { get; init; }

    /// <summary>What <see cref="HttpsEndPoint"/> does with its connections: ends TLS (<see cref="KestrelSettings.UseTls"/>) or passes them through.</summary>
    public Action<ListenOptions>? Https { get; init; }

    /// <summary>Whether this load balancer currently serves the public address.</summary>
    public bool Held => _listener is not null;

    /// <summary>Tries to take the address until cancelled, then releases it.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            if (_listener is null && IsFree())
            {
                await TryTakeAsync(cancellationToken).ConfigureAwait(false);
            }
            try
            {
                // Held, there is nothing to retry: no timer waking ten times a second for nothing.
                await (_listener is null && retryInterval == WhenNudged
                    ? _nudges.WaitAsync(cancellationToken)
                    : Task.Delay(_listener is null ? retryInterval : Timeout.InfiniteTimeSpan, timeProvider, cancellationToken)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        await DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Tells a claim whose retry interval is <see cref="WhenNudged"/> that the address was found
    /// free: it looks again and takes it. From any thread; nudges before it has looked count once.
    /// </summary>
    public void Nudge()
    {
        if (_nudges.CurrentCount == 0)
        {
            try
            {
                _nudges.Release();
            }
            catch (SemaphoreFullException)
            {
                // Nudged at the same moment from elsewhere: once is enough.
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_listener is { } listener)
        {
            _listener = null;
            await listener.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await listener.DisposeAsync().ConfigureAwait(false);
            LogReleased(logger, EndPoint);
        }
    }

    /// <summary>Whether nobody has the address bound now: one bind() call, so a standby does not build a web host ten times a second.</summary>
    public bool IsFree() => AddressProbe.IsFree(EndPoint) && (HttpsEndPoint is null || AddressProbe.IsFree(HttpsEndPoint));

    private async Task TryTakeAsync(CancellationToken cancellationToken)
    {
        var builder = Foobar.Http.QuietHost.CreateBuilder();
        builder.Logging.ClearProviders();
        KestrelSettings.Apply(builder.WebHost, IdleTimeout, kestrel =>
        {
            kestrel.Listen(EndPoint, Http ?? (static _ => { }));
            if (HttpsEndPoint is not null)
            {
                kestrel.Listen(HttpsEndPoint, Https ?? throw new InvalidOperationException("an HTTPS endpoint needs to be told what to do with its connections"));
            }
        });
        var listener = builder.Build();
        configure(listener);
        try
        {
            await listener.StartAsync(cancellationToken).ConfigureAwait(false);
            _listener = listener;
            LogTaken(logger, EndPoint);
        }
        catch (IOException)
        {
            // The other load balancer bound it between the probe and now: stay standby.
            await listener.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(EventId = 2000, Level = LogLevel.Warning, Message = "Took the public address {EndPoint}: this load balancer is active")]
    private static partial void LogTaken(ILogger logger, IPEndPoint endPoint);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Released the public address {EndPoint}")]
    private static partial void LogReleased(ILogger logger, IPEndPoint endPoint);
}
