using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Foobar.LoadBalancer;
using Foobar.Server.Processes;
using Microsoft.Extensions.Logging;

namespace Foobar.Server.Pair;

/// <summary>
/// The pair's heartbeat, on the standby's side: every <see cref="Interval"/> the standby pings the
/// other load balancers' <see cref="HeartbeatResponder"/>s (UDP, admin port) and remembers which
/// one holds the public address. When that one has not answered for the takeover time while the
/// address is still bound (it hangs: a frozen process keeps its socket), the standby fences it,
/// kills it, and its <see cref="PublicAddressClaim"/> binds the address on its next attempt. A
/// holder that dies frees the address by itself and needs no fencing.
/// </summary>
/// <remarks>
/// Both sides run on threads of their own, blocking, so neither a busy event loop nor a starved
/// thread pool on either side can make a live holder look silent (the HTTP heartbeat it replaced
/// got a healthy load balancer killed twice in CI: a slow answer, and an answer that said
/// "starting"). Fencing by killing works because the pair shares one machine: the peer's address
/// must be local and the process the one that answered (pid and start time). On two hosts the
/// same watch would move a floating address instead (docs/load-balancer.md).
/// </remarks>
internal sealed partial class StandbyWatch : IDisposable
{
    /// <summary>Time between heartbeats.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    /// <summary>How often the holder itself looks whether it still holds.</summary>
    private static readonly TimeSpan HeldInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long one ping waits for its answers: a live responder answers within a millisecond.</summary>
    public static readonly TimeSpan AnswerWait = TimeSpan.FromMilliseconds(100);

    private readonly IReadOnlyList<(string Name, IPEndPoint Heartbeat)> _peers;
    private readonly PublicAddressClaim _claim;
    private readonly TimeSpan _takeoverAfter;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Socket _socket;
    private readonly byte[] _datagram = new byte[Heartbeat.MaxLength + 1];
    private long _nonce = Random.Shared.NextInt64(1, long.MaxValue / 2);
    private Holder? _holder;

    private sealed record Holder(string Name, ProcessIdentity? Process, DateTimeOffset LastSeen);

    /// <param name="peers">The other load balancers and their heartbeat endpoints (admin address and port).</param>
    /// <param name="claim">This load balancer's claim on the public address.</param>
    /// <param name="local">This load balancer's own address: pings come from it.</param>
    /// <param name="takeoverAfter">How long the holder may be silent before it is fenced.</param>
    /// <param name="time">The clock the silence is measured on.</param>
    /// <param name="logger">Where watching and fencing are logged.</param>
    public StandbyWatch(IReadOnlyList<(string Name, IPEndPoint Heartbeat)> peers, PublicAddressClaim claim, IPAddress local, TimeSpan takeoverAfter, TimeProvider time, ILogger logger)
    {
        _peers = peers;
        _claim = claim;
        _takeoverAfter = takeoverAfter;
        _time = time;
        _logger = logger;
        _socket = new Socket(local.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(new IPEndPoint(local, 0));
    }

    /// <summary>Watches until cancelled, on a thread of its own.</summary>
    public Task RunAsync(CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() =>
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                // The holder has no one to watch: it looks again once a second (it holds until it stops).
                if (_claim.Held)
                {
                    _holder = null;
                    cancellationToken.WaitHandle.WaitOne(HeldInterval);
                    continue;
                }
                Beat();
                cancellationToken.WaitHandle.WaitOne(Interval);
            }
        }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>
    /// One heartbeat: pings every peer and waits up to <see cref="AnswerWait"/> for the answers; the
    /// peer that says it holds the address becomes the holder watched, and the holder answering at
    /// all is alive. Fences the holder once it has been silent for the takeover time while the
    /// address is still taken.
    /// </summary>
    internal void Beat()
    {
        var nonce = ++_nonce;
        Span<byte> ping = stackalloc byte[Heartbeat.MaxLength];
        var length = Heartbeat.WritePing(nonce, ping);
        foreach (var (_, endPoint) in _peers)
        {
            try
            {
                _socket.SendTo(ping[..length], SocketFlags.None, endPoint);
            }
            catch (SocketException)
            {
                // Unreachable now: as good as silent.
            }
        }
        var clock = Stopwatch.StartNew();
        var holderAnswered = false;
        while (!holderAnswered && clock.Elapsed < AnswerWait)
        {
            if (Receive(AnswerWait - clock.Elapsed, nonce) is not { } pong)
            {
                continue;
            }
            var peer = _peers.FirstOrDefault(p => p.Name == pong.Name);
            if (peer.Heartbeat is null)
            {
                continue;
            }
            var known = _holder is { } previous && previous.Name == pong.Name && previous.Process?.Pid == pong.Pid;
            if (known || pong.Holds)
            {
                var process = known ? _holder!.Process : IsLocal(peer.Heartbeat.Address) ? ProcessIdentity.Of(pong.Pid) : null;
                if (!known)
                {
                    LogWatching(_logger, pong.Name, pong.Pid, _claim.EndPoint, process is null ? "not on this host: cannot be fenced from here" : "on this host");
                }
                _holder = new Holder(pong.Name, process, _time.GetUtcNow());
                holderAnswered = true;
            }
        }
        if (!holderAnswered && _holder is { } holder && _time.GetUtcNow() - holder.LastSeen >= _takeoverAfter && !_claim.IsFree())
        {
            Fence(holder);
        }
    }

    /// <summary>The next answer to ping <paramref name="nonce"/> within <paramref name="wait"/>; null when none came (or something else did).</summary>
    private Heartbeat.Pong? Receive(TimeSpan wait, long nonce)
    {
        try
        {
            if (wait <= TimeSpan.Zero || !_socket.Poll(wait, SelectMode.SelectRead))
            {
                return null;
            }
            var length = _socket.Receive(_datagram);
            return Heartbeat.TryReadPong(_datagram.AsSpan(0, length), out var pong) && pong.Nonce == nonce ? pong : null;
        }
        catch (SocketException)
        {
            // An ICMP "port unreachable" for a ping (a peer not running), a datagram too long: no answer.
            return null;
        }
    }

    private void Fence(Holder holder)
    {
        _holder = null;
        var silent = _time.GetUtcNow() - holder.LastSeen;
        if (holder.Process is not { } process)
        {
            LogCannotFence(_logger, holder.Name, _claim.EndPoint, silent.TotalSeconds);
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
            LogFenced(_logger, holder.Name, process.Pid, _claim.EndPoint, silent.TotalSeconds);
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

    public void Dispose() => _socket.Dispose();

    [LoggerMessage(EventId = 2103, Level = LogLevel.Information, Message = "Watching {Peer} (pid {Pid}), which holds {EndPoint}; {Where}")]
    private static partial void LogWatching(ILogger logger, string peer, int pid, IPEndPoint endPoint, string where);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "{Peer} (pid {Pid}) holds {EndPoint} but has not answered a heartbeat for {Seconds:0.0} s: killed it to take the address over (fencing)")]
    private static partial void LogFenced(ILogger logger, string peer, int pid, IPEndPoint endPoint, double seconds);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Error, Message = "{Peer} holds {EndPoint} but has not answered a heartbeat for {Seconds:0.0} s, and runs on another host: it cannot be fenced from here")]
    private static partial void LogCannotFence(ILogger logger, string peer, IPEndPoint endPoint, double seconds);
}
