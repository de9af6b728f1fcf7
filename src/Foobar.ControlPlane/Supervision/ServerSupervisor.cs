using Foobar.Server.Processes;
using Foobar.ControlPlane.Processes;
using Foobar.Server.Admin;

namespace Foobar.ControlPlane.Supervision;

/// <summary>
/// Keeps one server running: starts its process, restarts it with backoff when it exits on its own,
/// and leaves it down when an operator stopped or killed it.
/// </summary>
/// <remarks>
/// One loop per server owns the process; the public methods only change what is wanted and
/// signal the process, so a crash and an operator's command never race to start two processes.
/// </remarks>
internal sealed class ServerSupervisor(
    string name,
    IServerLauncher launcher,
    RestartPolicy policy,
    TimeProvider timeProvider,
    EventLog events)
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _wantUp;
    private bool _killRequested;
    private int _crashesInARow;
    private DateTimeOffset? _unresponsiveSince;

    public string Name { get; } = name;

    public ServerState State { get; private set; } = ServerState.Stopped;

    public IServerProcess? Process { get; private set; }

    /// <summary>When the current process started.</summary>
    public DateTimeOffset? StartedAt { get; private set; }

    /// <summary>Restarts after crashes since the control plane started.</summary>
    public int Restarts { get; private set; }

    /// <summary>When a server in backoff will be started again.</summary>
    public DateTimeOffset? NextStartAt { get; private set; }

    /// <summary>The last health report, while the process runs.</summary>
    public ServerHealthReport? Health { get; private set; }

    public SupervisionEvent? LastEvent { get; private set; }

    /// <summary>Runs the supervision loop until <paramref name="cancellationToken"/>; stop servers with <see cref="StopAsync"/> first.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var changed = Changed();
            if (!WantUp)
            {
                await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }
            var process = StartProcess();
            var exitCode = await process.Exited.ConfigureAwait(false);
            var uptime = timeProvider.GetUtcNow() - StartedAt!.Value;
            lock (_lock)
            {
                Process = null;
                Health = null;
                StartedAt = null;
            }
            if (!WantUp)
            {
                State = _killRequested ? ServerState.Killed : ServerState.Stopped;
                Record(_killRequested ? "killed (SIGKILL); stays down until 'foobar start'" : $"stopped (exit code {exitCode})");
                continue;
            }
            await BackOffAsync(exitCode, uptime, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Wants the server up; starts it now even during a backoff delay.</summary>
    public void Start()
    {
        lock (_lock)
        {
            _wantUp = true;
            _killRequested = false;
            _crashesInARow = 0;
        }
        Wake();
    }

    /// <summary>
    /// SIGTERM (SIGINT when <paramref name="drained"/>: out of rotation already, no lame duck to
    /// wait out), then SIGKILL after <paramref name="grace"/>; completes when the process is gone.
    /// </summary>
    public async Task StopAsync(TimeSpan grace, CancellationToken cancellationToken = default, bool drained = false)
    {
        var process = WantDown(kill: false);
        if (process is null)
        {
            return;
        }
        State = ServerState.Stopping;
        process.Signal(drained ? Signals.Interrupt : Signals.Terminate);
        try
        {
            await process.Exited.WaitAsync(grace, timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Record($"did not stop within {grace.TotalSeconds:0} s; killing it");
            process.Signal(Signals.Kill);
            await process.Exited.ConfigureAwait(false);
        }
    }

    /// <summary>SIGKILL, as a crash would; the server stays down until <see cref="Start"/>.</summary>
    public async Task KillAsync()
    {
        var process = WantDown(kill: true);
        if (process is null)
        {
            State = ServerState.Killed;
            return;
        }
        process.Signal(Signals.Kill);
        await process.Exited.ConfigureAwait(false);
    }

    /// <summary>
    /// Takes a health report (null: no answer) from the health monitor. A server that stops
    /// answering for <see cref="RestartPolicy.UnresponsiveAfter"/>, or never answers within
    /// <see cref="RestartPolicy.StartTimeout"/>, is killed; the loop then restarts it as after a crash.
    /// </summary>
    public void ReportHealth(IServerProcess process, ServerHealthReport? report)
    {
        var now = timeProvider.GetUtcNow();
        string? hung = null;
        lock (_lock)
        {
            if (!ReferenceEquals(process, Process))
            {
                return;
            }
            Health = report;
            if (report is not null)
            {
                _unresponsiveSince = null;
            }
            else if (State == ServerState.Running)
            {
                _unresponsiveSince ??= now;
                if (now - _unresponsiveSince >= policy.UnresponsiveAfter)
                {
                    hung = $"has not answered its health check for {(now - _unresponsiveSince.Value).TotalSeconds:0} s; killing it to restart it";
                }
            }
            else if (State == ServerState.Starting && now - StartedAt >= policy.StartTimeout)
            {
                hung = $"did not pass its health check within {policy.StartTimeout.TotalSeconds:0} s of starting; killing it to restart it";
            }
            if (hung is not null)
            {
                _unresponsiveSince = null;
            }
        }
        if (hung is not null)
        {
            Record(hung);
            process.Signal(Signals.Kill);
            return;
        }
        if (report is { Ready: true } && State == ServerState.Starting)
        {
            State = ServerState.Running;
            Record($"ready after {(now - StartedAt)?.TotalSeconds:0.0} s (pid {process.Identity.Pid})");
        }
    }

    private bool WantUp
    {
        get
        {
            lock (_lock)
            {
                return _wantUp;
            }
        }
    }

    private IServerProcess? WantDown(bool kill)
    {
        lock (_lock)
        {
            _wantUp = false;
            _killRequested = kill;
        }
        Wake();
        return Process;
    }

    private IServerProcess StartProcess()
    {
        var process = launcher.Start(Name);
        bool stopRequested;
        lock (_lock)
        {
            Process = process;
            StartedAt = timeProvider.GetUtcNow();
            NextStartAt = null;
            State = ServerState.Starting;
            stopRequested = !_wantUp;
        }
        Record($"started (pid {process.Identity.Pid})");
        if (stopRequested)
        {
            // A stop or kill came while the process was being launched and found none to signal.
            process.Signal(_killRequested ? Signals.Kill : Signals.Terminate);
        }
        return process;
    }

    private async Task BackOffAsync(int exitCode, TimeSpan uptime, CancellationToken cancellationToken)
    {
        Task delayed;
        Task changed;
        TimeSpan delay;
        lock (_lock)
        {
            _crashesInARow = policy.NextCount(_crashesInARow, uptime);
            delay = policy.DelayFor(_crashesInARow);
            Restarts++;
            // Arm the timer before publishing Backoff: whoever sees Backoff sees a restart scheduled.
            delayed = Task.Delay(delay, timeProvider, cancellationToken);
            NextStartAt = timeProvider.GetUtcNow() + delay;
            changed = _changed.Task;
            State = ServerState.Backoff;
        }
        Record($"exited with code {exitCode} after {uptime.TotalSeconds:0.0} s; restarting in {delay.TotalSeconds:0.#} s (crash {_crashesInARow} in a row)");
        // An operator's start, stop or kill ends the wait early; the loop then does what is wanted.
        await Task.WhenAny(delayed, changed).ConfigureAwait(false);
        if (!WantUp)
        {
            State = _killRequested ? ServerState.Killed : ServerState.Stopped;
        }
    }

    private Task Changed()
    {
        lock (_lock)
        {
            return _changed.Task;
        }
    }

    private void Wake()
    {
        TaskCompletionSource previous;
        lock (_lock)
        {
            previous = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        previous.TrySetResult();
    }

    /// <summary>This server's recorded events (for tests and status).</summary>
    public IReadOnlyList<SupervisionEvent> Events() => events.Recent(200).Where(e => e.Server == Name).ToList();

    private void Record(string message) => LastEvent = events.Record(Name, message);
}
