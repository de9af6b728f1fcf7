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
/// kills it, and its <see cref="PublicAddressClaim"/> binds the address. A holder that dies frees
/// the address by itself and needs no fencing. The watch also looks every interval whether the
/// address is free, and has the claim take it when it is.
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

    /// <summary>Datagrams read at most per beat.</summary>
    private const int MaxAnswersRead = 16;

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

    /// <summary>
    /// Watches until cancelled, on a thread of its own that wakes once an interval: it reads the
    /// answers to the last ping (they had the whole interval to come), looks whether the public
    /// address is free — and if so has the claim take it (<see cref="PublicAddressClaim.Nudge"/>) —,
    /// pings again, and sleeps. One wake-up where pinging and waiting for the answer, then a
    /// timer for the claim's own probe, took five or six on four threads: the standby spent 13–14 ms
    /// of CPU a second doing nothing (docs/load-balancer.md).
    /// </summary>
    public Task RunAsync(CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() =>
        {
            var pinged = false;
            while (!cancellationToken.IsCancellationRequested)
            {
                // The holder has no one to watch: it looks again once a second (it holds until it stops).
                if (_claim.Held)
                {
                    _holder = null;
                    pinged = false;
                    cancellationToken.WaitHandle.WaitOne(HeldInterval);
                    continue;
                }
                if (pinged)
                {
                    Judge(Collect());
                }
                if (_claim.IsFree())
                {
                    _claim.Nudge();
                }
                Ping();
                pinged = true;
                cancellationToken.WaitHandle.WaitOne(Interval);
            }
        }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>
    /// One heartbeat at once: pings every peer, waits up to <see cref="AnswerWait"/> for the
    /// holder's answer, and judges (<see cref="Judge"/>). What <see cref="RunAsync"/> does over
    /// an interval, for tests that drive the watch beat by beat.
    /// </summary>
    internal void Beat()
    {
        Ping();
        var clock = Stopwatch.StartNew();
        var holderAnswered = false;
        while (!holderAnswered && clock.Elapsed < AnswerWait)
        {
            if (WaitForAnswer(AnswerWait - clock.Elapsed))
            {
                holderAnswered = Collect();
            }
        }
        Judge(holderAnswered);
    }

    /// <summary>Pings sent so far (for tests).</summary>
    internal long Beats => Volatile.Read(ref _beats);

    private long _beats;
    private DateTimeOffset _pingedAt;

    /// <summary>Sends every peer a ping with a new nonce: answers to older pings are ignored from now on.</summary>
    private void Ping()
    {
        Interlocked.Increment(ref _beats);
        _pingedAt = _time.GetUtcNow();
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
    }

    /// <summary>
    /// Reads every datagram waiting, without blocking: the peer that says it holds the address
    /// becomes the holder watched, and whether the holder answered the last ping is returned.
    /// </summary>
    private bool Collect()
    {
        var holderAnswered = false;
        // Bounded: a peer answers once a ping; anything past that is not worth a longer wake-up.
        for (var i = 0; i < MaxAnswersRead && TryReceive(out var length); i++)
        {
            if (!Heartbeat.TryReadPong(_datagram.AsSpan(0, length), out var pong) || pong.Nonce != _nonce)
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
                // Seen when the ping went out: the answer came after it, and read an interval later
                // the holder would look that much fresher and a hang be fenced that much later.
                _holder = new Holder(pong.Name, process, _pingedAt);
                holderAnswered = true;
            }
        }
        return holderAnswered;
    }

    /// <summary>Fences the holder once it has been silent for the takeover time while the address is still taken.</summary>
    private void Judge(bool holderAnswered)
    {
        if (!holderAnswered && _holder is { } holder && _time.GetUtcNow() - holder.LastSeen >= _takeoverAfter && !_claim.IsFree())
        {
            Fence(holder);
        }
    }

    /// <summary>Whether something came within <paramref name="wait"/> (an answer, or an error to read).</summary>
    private bool WaitForAnswer(TimeSpan wait)
    {
        try
        {
            return wait > TimeSpan.Zero && _socket.Poll(wait, SelectMode.SelectRead);
        }
        catch (SocketException)
        {
            return true;
        }
    }

    /// <summary>Reads the next datagram waiting into <c>_datagram</c>; false when none is (never blocks).</summary>
    private bool TryReceive(out int length)
    {
        while (true)
        {
            try
            {
                length = 0;
                if (!_socket.Poll(0, SelectMode.SelectRead))
                {
                    return false;
                }
                length = _socket.Receive(_datagram);
                return true;
            }
            catch (SocketException)
            {
                // An ICMP "port unreachable" for a ping (a peer not running), a datagram too long:
                // that one is no answer; look at what else waits.
            }
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
