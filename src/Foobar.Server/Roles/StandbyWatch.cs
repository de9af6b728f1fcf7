using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Foobar.LoadBalancer;
using Foobar.Server.Admin;
using Foobar.Server.Processes;
using Microsoft.Extensions.Logging;

namespace Foobar.Server.Roles;

/// <summary>
/// The pair's heartbeat, on the standby's side: every <see cref="Interval"/> the standby asks the
/// other load balancers' admin listeners for <c>/healthz</c> and remembers which one holds the
/// public address. When that one stops answering for the takeover time while the address is still
/// bound (it hangs: a frozen process keeps its socket), the standby fences it, kills it, and its
/// <see cref="PublicAddressClaim"/> binds the address on its next attempt. A holder that dies frees
/// the address by itself and needs no fencing.
/// </summary>
/// <remarks>
/// Fencing by killing works because the pair shares one machine: the peer's admin address must
/// be local and the process the one that answered the heartbeats (pid and start time). On two
/// hosts the same watch would move a floating address instead (docs/load-balancer.md).
/// </remarks>
internal sealed partial class StandbyWatch(
    IReadOnlyList<(string Name, IPEndPoint Admin)> peers,
    PublicAddressClaim claim,
    TimeSpan takeoverAfter,
    TimeProvider time,
    ILogger logger) : IDisposable
{
    /// <summary>Time between heartbeats.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    // A heartbeat may take up to the takeover time: a missed one is only decided on by the time
    // since the last answer, and a process just started (cold code, busy cores) can take a few
    // hundred milliseconds over its first.
    private readonly HttpClient _client = new(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = takeoverAfter }) { Timeout = takeoverAfter };
    private Holder? _holder;

    private sealed record Holder(string Name, ProcessIdentity? Process, DateTimeOffset LastSeen);

    /// <summary>Watches until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            if (claim.Held)
            {
                _holder = null;
            }
            else
            {
                await BeatAsync(cancellationToken).ConfigureAwait(false);
            }
            try
            {
                await Task.Delay(Interval, time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// One heartbeat: asks each peer; a peer whose load balancer is ready (active: it serves the
    /// address) becomes the holder watched, and the holder answering anything at all is alive —
    /// one whose web servers all failed their checks says "starting", and killing it would only
    /// move the same trouble to this one. Fences the holder once it has been silent for the
    /// takeover time while the address is still taken.
    /// </summary>
    internal async Task BeatAsync(CancellationToken cancellationToken)
    {
        string? miss = null;
        foreach (var (name, admin) in peers)
        {
            var answer = await ServerHealthClient.AskAsync(_client, admin, cancellationToken).ConfigureAwait(false);
            if (answer.Report is not { } report)
            {
                miss ??= $"{name}: {answer.Failure}";
                continue;
            }
            var known = _holder is { } previous && previous.Name == name && previous.Process?.Pid == report.Pid;
            if (known || report.Roles.Any(r => r.Role == "lb" && r.State == RoleStates.Ready))
            {
                var process = known ? _holder!.Process : IsLocal(admin.Address) ? ProcessIdentity.Of(report.Pid) : null;
                if (!known)
                {
                    LogWatching(logger, name, report.Pid, claim.EndPoint, process is null ? "not on this host: cannot be fenced from here" : "on this host");
                }
                _holder = new Holder(name, process, time.GetUtcNow());
                return;
            }
        }
        if (_holder is { } holder && time.GetUtcNow() - holder.LastSeen >= takeoverAfter && !claim.IsFree())
        {
            Fence(holder, miss ?? $"{holder.Name}: answers as another process");
        }
    }

    private void Fence(Holder holder, string lastMiss)
    {
        _holder = null;
        var silent = time.GetUtcNow() - holder.LastSeen;
        if (holder.Process is not { } process)
        {
            LogCannotFence(logger, holder.Name, claim.EndPoint, silent.TotalSeconds);
            return;
        }
        if (!process.IsAlive)
        {
            return;
        }
        try
        {
            using var target = Process.GetProcessById(process.Pid);
            target.Kill();
            LogFenced(logger, holder.Name, process.Pid, claim.EndPoint, silent.TotalSeconds, lastMiss);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Gone in the meantime: the address frees by itself.
        }
    }

    /// <summary>Whether <paramref name="address"/> belongs to this host: only then can the holder's process be ours to fence.</summary>
    private static bool IsLocal(IPAddress address)
    {
        using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            probe.Bind(new IPEndPoint(address, 0));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Dispose() => _client.Dispose();

    [LoggerMessage(EventId = 2103, Level = LogLevel.Information, Message = "Watching {Peer} (pid {Pid}), which holds {EndPoint}; {Where}")]
    private static partial void LogWatching(ILogger logger, string peer, int pid, IPEndPoint endPoint, string where);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "{Peer} (pid {Pid}) holds {EndPoint} but has missed heartbeats for {Seconds:0.0} s (the last: {Miss}): killed it to take the address over (fencing)")]
    private static partial void LogFenced(ILogger logger, string peer, int pid, IPEndPoint endPoint, double seconds, string miss);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Error, Message = "{Peer} holds {EndPoint} but has missed heartbeats for {Seconds:0.0} s, and runs on another host: it cannot be fenced from here")]
    private static partial void LogCannotFence(ILogger logger, string peer, IPEndPoint endPoint, double seconds);
}
