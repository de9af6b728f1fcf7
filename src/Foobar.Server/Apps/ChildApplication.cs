using System.Diagnostics;
using Foobar.Server.Processes;
using Microsoft.Extensions.Logging;

namespace Foobar.Server.Apps;

/// <summary>
/// Your own application on an app server (<c>app.command</c>): a shell command run as this
/// server's child, restarted when it exits, and checked over HTTP like any backend.
/// </summary>
/// <remarks>
/// The command runs under <c>setsid</c> in a process group of its own, so stopping it reaches
/// whatever it started (a shell pipeline, worker processes): SIGTERM to the group, SIGKILL after
/// <see cref="StopGrace"/>. Its identity (pid and start time) is kept in a pid file in the state
/// directory's <c>pids/</c>: a child left behind by a server that was killed is stopped before a
/// new one starts (it would hold the port), and <c>foobar down</c> sweeps it with the rest. It
/// restarts after 1 s, 2 s, 4 s … up to 30 s while it keeps exiting; a run of 30 s resets that.
/// Its output goes to the server's own log.
/// </remarks>
internal sealed partial class ChildApplication(
    string command,
    string workingDirectory,
    IReadOnlyDictionary<string, string> environment,
    string pidFile,
    Uri checkUri,
    HttpMessageInvoker checkClient,
    ILogger logger)
{
    /// <summary>How long the child has to exit after SIGTERM before SIGKILL.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(500);

    private volatile string _state = "not started";
    private volatile bool _ready;

    /// <summary>Whether the child runs and its last check passed.</summary>
    public bool Ready => _ready;

    /// <summary>What the child is doing, for the server's health report.</summary>
    public string State => _state;

    /// <summary>Runs the child, restarting it, until <paramref name="cancellationToken"/>; then stops it.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        StopLeftover();
        var backoff = TimeSpan.FromSeconds(1);
        while (!cancellationToken.IsCancellationRequested)
        {
            var started = Stopwatch.StartNew();
            int exitCode;
            using (var process = Start())
            {
                var identity = ProcessIdentity.Of(process.Id);
                if (identity is not null)
                {
                    PidFile.Write(pidFile, identity);
                }
                _state = $"running (pid {process.Id})";
                LogStarted(logger, command, process.Id);
                using var checks = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var checking = CheckAsync(checks.Token);
                try
                {
                    await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    await StopAsync(process, identity).ConfigureAwait(false);
                }
                // Whatever the command started that outlived it would hold the port.
                Signals.SendToRemainingGroup(process.Id, Signals.Kill);
                await checks.CancelAsync().ConfigureAwait(false);
                await checking.ConfigureAwait(false);
                _ready = false;
                PidFile.Delete(pidFile);
                if (cancellationToken.IsCancellationRequested)
                {
                    _state = "stopped";
                    return;
                }
                exitCode = process.ExitCode;
            }
            backoff = started.Elapsed >= MaxBackoff ? TimeSpan.FromSeconds(1) : backoff;
            _state = $"exited with code {exitCode} after {started.Elapsed.TotalSeconds:0.0} s; restarting in {backoff.TotalSeconds:0} s";
            LogExited(logger, exitCode, started.Elapsed.TotalSeconds, backoff.TotalSeconds);
            try
            {
                await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _state = "stopped";
                return;
            }
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
        }
    }

    private Process Start()
    {
        var start = new ProcessStartInfo("setsid")
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("/bin/sh");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        return Process.Start(start) ?? throw new InvalidOperationException($"could not start '{command}'");
    }

    /// <summary>Checks the child every half second while it runs; <see cref="Ready"/> follows the last answer.</summary>
    private async Task CheckAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, checkUri);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(1));
                using var response = await checkClient.SendAsync(request, timeout.Token).ConfigureAwait(false);
                _ready = response.IsSuccessStatusCode;
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                _ready = false;
            }
            try
            {
                await Task.Delay(CheckInterval, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>SIGTERM to the child's process group, SIGKILL after <see cref="StopGrace"/>.</summary>
    private static async Task StopAsync(Process process, ProcessIdentity? identity)
    {
        if (identity is null)
        {
            return;
        }
        Signals.SendToGroup(identity, Signals.Terminate);
        using var grace = new CancellationTokenSource(StopGrace);
        try
        {
            await process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Signals.SendToGroup(identity, Signals.Kill);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>A child of an earlier run of this server that was killed before it could stop it: it would hold the port.</summary>
    private void StopLeftover()
    {
        if (PidFile.Read(pidFile) is not { IsAlive: true } leftover)
        {
            return;
        }
        LogLeftover(logger, leftover.Pid);
        Signals.SendToGroup(leftover, Signals.Kill);
        var deadline = Stopwatch.StartNew();
        while (leftover.IsAlive && deadline.Elapsed < StopGrace)
        {
            Thread.Sleep(20);
        }
        PidFile.Delete(pidFile);
    }

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Started the application '{Command}' (pid {Pid})")]
    private static partial void LogStarted(ILogger logger, string command, int pid);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "The application exited with code {Code} after {Seconds:0.0} s; restarting in {Backoff:0} s")]
    private static partial void LogExited(ILogger logger, int code, double seconds, double backoff);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Stopping the application left running by an earlier run of this server (pid {Pid})")]
    private static partial void LogLeftover(ILogger logger, int pid);
}
