using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using Foobar.Http.AccessLogs;
using Foobar.Http.Forwarder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Foobar.Http.Front;

/// <summary>
/// A front for a plain-HTTP listener, ahead of Kestrel's HTTP/1.1 server: it reads each request
/// on a connection itself, and a body-less GET or HEAD of the plain shape (<see cref="FrontRequest"/>)
/// that <see cref="Route"/> sends to a pool is forwarded right there — the forwarder's lean path
/// from the client's bytes to the backend's and back, no HTTP context, no header collections, no
/// middleware —, or answered with the file it names (<see cref="FrontFile"/>). The first request that is anything else, and everything after it on that
/// connection, Kestrel reads, from the same buffer: a connection middleware that hands on what it
/// does not serve, so every shape, limit and error answer stays Kestrel's.
/// </summary>
/// <remarks>
/// Measured against Kestrel's own HTTP/1.1 server in front of the same forwarder and against nginx
/// and HAProxy: see docs/load-balancer.md ("The front"). <c>FOOBAR_FRONT=kestrel</c> turns it off.
/// </remarks>
/// <param name="forwarder">Forwards the requests.</param>
/// <param name="self">This server's name, for X-Served-By.</param>
/// <param name="route">Where a request goes; null to leave it to Kestrel.</param>
public sealed class Http1Front(HttpForwarder forwarder, string self, FrontRouter route)
{
    private readonly ConcurrentDictionary<FrontConnection, byte> _connections = new();
    private readonly Lock _sweeperLock = new();
    private ITimer? _sweeper;

    /// <summary>Whether listeners get the front: yes, unless <c>FOOBAR_FRONT=kestrel</c> asks for Kestrel's server on every request.</summary>
    public static bool Enabled { get; } = !string.Equals(Environment.GetEnvironmentVariable("FOOBAR_FRONT"), "kestrel", StringComparison.OrdinalIgnoreCase);

    /// <summary>Where a request goes.</summary>
    public FrontRouter Route => route;

    /// <summary>
    /// How long a connection may wait for its next request before it is closed: Kestrel's
    /// keep-alive timeout on the same listener (its default, 130 s, unless given).
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(130);

    /// <summary>Where the requests served here are logged; null for no log.</summary>
    public AccessLog? AccessLog { get; init; }

    /// <summary>A path not logged (the health checks).</summary>
    public string? QuietPath { get; init; }

    /// <summary>The clock of the idle timeout.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Connections the front serves now (not those handed to Kestrel).</summary>
    public int Connections => _connections.Count;

    /// <summary>Puts the front ahead of Kestrel's HTTP server on <paramref name="listen"/> (after any connection middleware added before).</summary>
    public ListenOptions Use(ListenOptions listen)
    {
        listen.Use(next => connection => RunAsync(connection, next));
        return listen;
    }

    private async Task RunAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        var request = new FrontRequest((connection.RemoteEndPoint as IPEndPoint)?.Address);
        var state = new FrontConnection(input);
        _connections.TryAdd(state, 0);
        EnsureSweeping();
        // Kestrel asks every connection to close when the server stops: an idle one closes at
        // once, a busy one after its response, as Kestrel's own HTTP/1.1 connections do.
        var closing = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? default;
        var handOver = false;
        using (closing.UnsafeRegister(static s => ((FrontConnection)s!).RequestClose(), state))
        {
            try
            {
                handOver = await ServeAsync(connection, input, output, request, state).ConfigureAwait(false);
            }
            finally
            {
                _connections.TryRemove(state, out _);
            }
        }
        if (handOver)
        {
            await next(connection).ConfigureAwait(false);
        }
    }

    /// <summary>Serves requests until the connection ends (false) or one is Kestrel's (true: the buffer starts with it).</summary>
    private async Task<bool> ServeAsync(ConnectionContext connection, PipeReader input, PipeWriter output, FrontRequest request, FrontConnection state)
    {
        while (true)
        {
            state.Waiting(Time.GetTimestamp());
            ReadResult result;
            try
            {
                result = await input.ReadAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
                // Reset by the client.
                return false;
            }
            state.Busy();
            var buffer = result.Buffer;
            if (result.IsCanceled || buffer.IsEmpty)
            {
                // Idle too long, the server stopping, or the client closed.
                return false;
            }
            if (!request.TryRead(buffer.First) || route(request) is not { } to)
            {
                input.AdvanceTo(buffer.Start);
                return true;
            }
            ServerLeaving.NoteRequest(Time);
            var log = AccessLog is not null && request.Path != QuietPath;
            request.KeepsUpstream = log;
            var arrived = log ? DateTimeOffset.UtcNow : default;
            var startedAt = log ? Stopwatch.GetTimestamp() : 0;
            var close = request.WantsClose || state.CloseRequested;
            FrontOutcome outcome;
            if (to.File is { } file)
            {
                FrontResponse.WriteFile(output, file, self, request, close);
                outcome = await FlushAsync(output, connection.ConnectionClosed).ConfigureAwait(false) && !close ? FrontOutcome.KeepAlive : FrontOutcome.Close;
            }
            else
            {
                outcome = await forwarder.ForwardAsync(request, output, to.Pool!, to.Pages, self, close, connection.ConnectionClosed).ConfigureAwait(false);
            }
            if (log)
            {
                AccessLog!.Add(request.LogEntry(arrived, Stopwatch.GetElapsedTime(startedAt)));
            }
            input.AdvanceTo(buffer.GetPosition(request.Length));
            switch (outcome)
            {
                case FrontOutcome.Abort:
                    connection.Abort(new ConnectionAbortedException("The backend's response broke off after its head was sent."));
                    return false;
                case FrontOutcome.Close:
                    return false;
            }
        }
    }

    /// <summary>Flushes an answer written here; false when the client is gone (the connection then closes).</summary>
    private static async ValueTask<bool> FlushAsync(PipeWriter output, CancellationToken closed)
    {
        try
        {
            var flushed = await output.FlushAsync(closed).ConfigureAwait(false);
            return !flushed.IsCompleted && !flushed.IsCanceled;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            return false;
        }
    }

    private void EnsureSweeping()
    {
        if (_sweeper is not null)
        {
            return;
        }
        lock (_sweeperLock)
        {
            _sweeper ??= Time.CreateTimer(static front => ((Http1Front)front!).CloseIdle(), this, SweepInterval, SweepInterval);
        }
    }

    /// <summary>How often idle connections are looked for: the timeout is kept to within this.</summary>
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(1);

    /// <summary>Closes the connections that have waited for a request longer than <see cref="IdleTimeout"/>.</summary>
    private void CloseIdle()
    {
        var now = Time.GetTimestamp();
        foreach (var (connection, _) in _connections)
        {
            connection.CloseIfIdleSince(Time, now, IdleTimeout);
        }
    }
}
