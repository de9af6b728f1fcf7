using Foobar.Server.Processes;
using Foobar.ControlPlane.Processes;
using Foobar.ControlPlane.Supervision;
using Foobar.Server.Admin;
using Foobar.Testing;

namespace Foobar.ControlPlane.Tests.Supervision;

public sealed class ServerSupervisorTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly FakeLauncher _launcher = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ServerSupervisor _supervisor;
    private readonly Task _loop;

    public ServerSupervisorTests()
    {
        _supervisor = new ServerSupervisor("web1", _launcher, new RestartPolicy(), _time, new EventLog(_time));
        _loop = Task.Run(() => _supervisor.RunAsync(_stop.Token));
    }

    [Fact]
    public async Task Start_LaunchesOneProcess()
    {
        _supervisor.Start();

        await Eventually.TrueAsync(() => _launcher.Started.Count == 1, "first start");
        Assert.Equal(ServerState.Starting, _supervisor.State);
        Assert.Equal(_launcher.Started[0].Identity, _supervisor.Process?.Identity);
    }

    [Fact]
    public async Task Crash_RestartsAfterTheInitialDelay()
    {
        var first = await StartedAsync(1);

        first.Crash();
        await Eventually.TrueAsync(() => _supervisor.State == ServerState.Backoff, "backoff");

        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(1), _supervisor.NextStartAt);
        Assert.Equal(1, _supervisor.Restarts);
        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Single(_launcher.Started);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.TrueAsync(() => _launcher.Started.Count == 2, "restart after 1 s");
        Assert.Contains("exited with code 1", _supervisor.Events().Last(e => e.Message.Contains("exited", StringComparison.Ordinal)).Message);
    }

    [Fact]
    public async Task Crash_RepeatedQuickly_BacksOffExponentially()
    {
        var process = await StartedAsync(1);
        var delays = new List<double>();
        for (var crash = 1; crash <= 4; crash++)
        {
            process.Crash();
            await Eventually.TrueAsync(() => _supervisor.State == ServerState.Backoff, $"backoff {crash}");
            var delay = _supervisor.NextStartAt!.Value - _time.GetUtcNow();
            delays.Add(delay.TotalSeconds);
            _time.Advance(delay);
            process = await StartedAsync(crash + 1);
        }

        Assert.Equal([1, 2, 4, 8], delays);
        Assert.Equal(4, _supervisor.Restarts);
    }

    [Fact]
    public async Task Crash_AfterAStableRun_StartsTheRowAgain()
    {
        var process = await StartedAsync(1);
        process.Crash();
        await Eventually.TrueAsync(() => _supervisor.State == ServerState.Backoff, "backoff");
        _time.Advance(TimeSpan.FromSeconds(1));
        process = await StartedAsync(2);

        _time.Advance(TimeSpan.FromMinutes(5));
        process.Crash();
        await Eventually.TrueAsync(() => _supervisor.State == ServerState.Backoff, "second backoff");

        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(1), _supervisor.NextStartAt);
    }

    [Fact]
    public async Task Kill_SendsSigkillAndStaysDownUntilStarted()
    {
        var process = await StartedAsync(1);

        await _supervisor.KillAsync();
        await Eventually.TrueAsync(() => _supervisor.State == ServerState.Killed, "killed");
        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal([Signals.Kill], process.Signals);
        Assert.Single(_launcher.Started);
        Assert.Equal(0, _supervisor.Restarts);

        _supervisor.Start();
        await StartedAsync(2);
    }

    [Fact]
    public async Task Kill_DuringBackoff_CancelsTheRestart()
    {
        var process = await StartedAsync(1);
        process.Crash();
        await Eventually.TrueAsync(() => _supervisor.State == ServerState.Backoff, "backoff");

        await _supervisor.KillAsync();
        _time.Advance(TimeSpan.FromMinutes(1));

        await Eventually.TrueAsync(() => _supervisor.State == ServerState.Killed, "killed");
        Assert.Single(_launcher.Started);
    }

    [Fact]
    public async Task Start_DuringBackoff_StartsAtOnce()
    {
        var process = await StartedAsync(1);
        for (var i = 0; i < 3; i++)
        {
            process.Crash();
            await Eventually.TrueAsync(() => _supervisor.State == ServerState.Backoff, "backoff");
            _time.Advance(_supervisor.NextStartAt!.Value - _time.GetUtcNow());
            process = await StartedAsync(i + 2);
        }
        process.Crash();
        await Eventually.TrueAsync(() => _supervisor.State == ServerState.Backoff, "long backoff");

        _supervisor.Start();

        await StartedAsync(5);
    }

    [Fact]
    public async Task Stop_ProcessIgnoresSigterm_IsKilledAfterTheGrace()
    {
        _launcher.IgnoreTerminate = true;
        var process = await StartedAsync(1);

        var stopping = _supervisor.StopAsync(TimeSpan.FromSeconds(10));
        await Eventually.TrueAsync(() => process.Signals.Count == 1, "SIGTERM sent");
        Assert.False(stopping.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(10));
        await stopping;

        Assert.Equal([Signals.Terminate, Signals.Kill], process.Signals);
        await Eventually.TrueAsync(() => _supervisor.State == ServerState.Stopped, "stopped");
        Assert.Equal(0, _supervisor.Restarts);
    }

    [Fact]
    public async Task ReportHealth_Ready_MovesStartingToRunning()
    {
        var process = await StartedAsync(1);

        _supervisor.ReportHealth(process, new ServerHealthReport("web1", 1, _time.GetUtcNow(), Ready: false, []));
        Assert.Equal(ServerState.Starting, _supervisor.State);
        _supervisor.ReportHealth(process, new ServerHealthReport("web1", 1, _time.GetUtcNow(), Ready: true, []));

        Assert.Equal(ServerState.Running, _supervisor.State);
    }

    [Fact]
    public async Task ReportHealth_FromAPreviousProcess_IsIgnored()
    {
        var old = await StartedAsync(1);
        old.Crash();
        await Eventually.TrueAsync(() => _supervisor.State == ServerState.Backoff, "backoff");
        _time.Advance(TimeSpan.FromSeconds(1));
        await StartedAsync(2);

        _supervisor.ReportHealth(old, new ServerHealthReport("web1", 1, _time.GetUtcNow(), Ready: true, []));

        Assert.Equal(ServerState.Starting, _supervisor.State);
    }

    [Fact]
    public async Task ReportHealth_RunningServerSilentTooLong_IsKilledAndRestarted()
    {
        var process = await RunningAsync();

        for (var second = 0; second < 10; second++)
        {
            _supervisor.ReportHealth(process, null);
            _time.Advance(TimeSpan.FromSeconds(1));
        }
        Assert.Empty(process.Signals);
        _supervisor.ReportHealth(process, null);

        Assert.Equal([Signals.Kill], process.Signals);
        await Eventually.TrueAsync(() => _supervisor.State == ServerState.Backoff, "backoff after the hang");
        Assert.Equal(1, _supervisor.Restarts);
        Assert.Contains(_supervisor.Events(), e => e.Message.Contains("has not answered its health check for 10 s", StringComparison.Ordinal));
        _time.Advance(TimeSpan.FromSeconds(1));
        await StartedAsync(2);
    }

    [Fact]
    public async Task ReportHealth_SilenceShorterThanTheLimit_IsForgiven()
    {
        var process = await RunningAsync();

        for (var round = 0; round < 3; round++)
        {
            for (var second = 0; second < 9; second++)
            {
                _supervisor.ReportHealth(process, null);
                _time.Advance(TimeSpan.FromSeconds(1));
            }
            _supervisor.ReportHealth(process, Healthy());
        }

        Assert.Empty(process.Signals);
        Assert.Equal(ServerState.Running, _supervisor.State);
    }

    [Fact]
    public async Task ReportHealth_NeverReadyWithinTheStartTimeout_IsKilled()
    {
        var process = await StartedAsync(1);

        _time.Advance(TimeSpan.FromSeconds(59));
        _supervisor.ReportHealth(process, null);
        Assert.Empty(process.Signals);
        _time.Advance(TimeSpan.FromSeconds(1));
        _supervisor.ReportHealth(process, null);

        Assert.Equal([Signals.Kill], process.Signals);
        await Eventually.TrueAsync(() => _supervisor.State == ServerState.Backoff, "backoff after the start timeout");
    }

    public async ValueTask DisposeAsync()
    {
        await _supervisor.StopAsync(TimeSpan.FromSeconds(1));
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }

    private ServerHealthReport Healthy() => new("web1", 1, _time.GetUtcNow(), Ready: true, []);

    private async Task<FakeLauncher.FakeProcess> RunningAsync()
    {
        var process = await StartedAsync(1);
        _supervisor.ReportHealth(process, Healthy());
        Assert.Equal(ServerState.Running, _supervisor.State);
        return process;
    }

    private async Task<FakeLauncher.FakeProcess> StartedAsync(int count)
    {
        if (count == 1)
        {
            _supervisor.Start();
        }
        await Eventually.TrueAsync(() => _launcher.Started.Count == count && _supervisor.State == ServerState.Starting, $"start #{count}");
        return _launcher.Started[count - 1];
    }
}
