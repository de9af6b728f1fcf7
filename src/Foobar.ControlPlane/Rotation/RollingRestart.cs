using Stopwatch = System.Diagnostics.Stopwatch;
using Foobar.ControlPlane.Supervision;
using Foobar.Topology;

namespace Foobar.ControlPlane.Rotation;

/// <summary>
/// <c>foobar rollout web|app</c>: restarts the servers of a tier one at a time, each taken out
/// of rotation first (its requests in flight finish), started again, and back in rotation on
/// every front server — up, a check made after it was ready passed — before the next one leaves. At every moment all
/// servers but one take requests, and no request fails. A server leaves only when every front
/// server has another one in rotation (one restarted by hand may still be rising). Stops at the
/// first server that does not come back, or cannot leave, leaving the rest untouched.
/// </summary>
/// <param name="frontsOf">The front tiers a server is behind.</param>
/// <param name="events">The event log.</param>
/// <param name="stopGrace">How long a server gets to finish before SIGKILL.</param>
internal sealed class RollingRestart(Func<string, List<FrontTier>> frontsOf, EventLog events, TimeSpan stopGrace)
{
    /// <summary>How long a restarted server has to say it is ready.</summary>
    public static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long the front servers have to take it back once ready (a few health checks).</summary>
    public static readonly TimeSpan RotationTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    /// <summary>The tiers a rollout covers.</summary>
    public static bool Covers(Role tier) => tier is Role.Web or Role.App;

    /// <summary>Restarts <paramref name="servers"/> in order; returns a line per server for the operator.</summary>
    /// <exception cref="InvalidOperationException">A server did not come back; the message says which and what was done.</exception>
    public async Task<string> RunAsync(IReadOnlyList<ServerSupervisor> servers, CancellationToken cancellationToken)
    {
        var lines = new List<string>();
        foreach (var supervisor in servers)
        {
            var clock = Stopwatch.StartNew();
            var fronts = frontsOf(supervisor.Name);
            var before = supervisor.Process?.Identity.Pid;
            foreach (var front in fronts)
            {
                // The server before it came back on its own front servers, but another may still be
                // rising after a restart of its own: never leave a front server with nothing in rotation.
                if (await front.AwaitOthersAsync(supervisor.Name, RotationTimeout, cancellationToken).ConfigureAwait(false) is { Count: > 0 } alone)
                {
                    throw new InvalidOperationException(Done(lines) + $"{supervisor.Name} was not taken out of rotation: no other {front.Behind.Name()} server has been in rotation for {RotationTimeout.TotalSeconds:0} s on {string.Join("; ", alone)}; the rollout stopped there (see 'foobar status')");
                }
            }
            foreach (var front in fronts)
            {
                await front.LeaveAsync(supervisor.Name, before, stopGrace, cancellationToken).ConfigureAwait(false);
            }
            var left = clock.Elapsed;
            await supervisor.StopAsync(stopGrace, cancellationToken, drained: true).ConfigureAwait(false);
            supervisor.Start();
            if (!await UntilAsync(() => Task.FromResult(supervisor.State == ServerState.Running && supervisor.Health is { Ready: true } && supervisor.Process?.Identity.Pid != before),
                ReadyTimeout, cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidOperationException(Done(lines) + $"{supervisor.Name} was restarted but is not ready after {ReadyTimeout.TotalSeconds:0} s; the rollout stopped there (see 'foobar status' and logs/{supervisor.Name}.log)");
            }
            var ready = clock.Elapsed;
            var readyAt = DateTimeOffset.UtcNow;
            foreach (var front in fronts)
            {
                // Back in rotation as soon as it is ready, not at the next reconcile pass.
                await front.ReconcileAsync(cancellationToken).ConfigureAwait(false);
                if (!await UntilAsync(() => front.InRotationAsync(supervisor.Name, readyAt, cancellationToken), RotationTimeout, cancellationToken).ConfigureAwait(false))
                {
                    throw new InvalidOperationException(Done(lines) + $"{supervisor.Name} is ready but the {front.Front.Name()} servers have not taken it back after {RotationTimeout.TotalSeconds:0} s; the rollout stopped there");
                }
            }
            var line = $"{supervisor.Name}: out of rotation in {left.TotalSeconds:0.00} s, restarted (pid {before?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"} → {supervisor.Process?.Identity.Pid}), ready after {ready.TotalSeconds:0.0} s, back in rotation after {clock.Elapsed.TotalSeconds:0.0} s";
            events.Record("rollout", line);
            lines.Add(line);
        }
        return string.Join(Environment.NewLine, lines);
    }

    private static string Done(List<string> lines) => lines.Count == 0 ? "" : string.Join(Environment.NewLine, lines) + Environment.NewLine;

    private static async Task<bool> UntilAsync(Func<Task<bool>> condition, TimeSpan deadline, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition().ConfigureAwait(false))
        {
            if (clock.Elapsed > deadline)
            {
                return false;
            }
            await Task.Delay(Poll, cancellationToken).ConfigureAwait(false);
        }
        return true;
    }
}
