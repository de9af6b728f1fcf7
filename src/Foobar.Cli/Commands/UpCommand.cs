using System.CommandLine;
using System.Diagnostics;
using Foobar.Cli.Output;
using Foobar.ControlPlane.Api;
using Foobar.ControlPlane.Preflight;
using Foobar.ControlPlane.Processes;
using Foobar.ControlPlane.State;
using Foobar.ControlPlane.Status;
using Foobar.Topology;
using Foobar.Topology.Loading;
using Spectre.Console;
using Foobar.Server.Processes;

namespace Foobar.Cli.Commands;

/// <summary>
/// <c>foobar up</c>: check the topology and its addresses, start the control plane (in this
/// process, or detached), show progress until every server is ready, print where the site is.
/// </summary>
internal static class UpCommand
{
    public static Command Create()
    {
        var detach = new Option<bool>("--detach", "-d") { Description = "Return once everything is ready and leave it running in the background" };
        // Default 60 s: a warm start takes about 3 s on two cores; a cold machine or a loaded CI box many times that.
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for every server to be ready", DefaultValueFactory = _ => 60, HelpName = "SECONDS" };
        timeout.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() <= 0)
            {
                r.AddError("--timeout must be a positive number of seconds");
            }
        });
        var command = new Command("up", "Start every server of the topology; ready, or a clear error") { CommonOptions.TopologyFile, detach, timeout };
        command.SetAction(async result =>
        {
            var state = CommonOptions.StateOf(result);
            Topology.Topology topology;
            try
            {
                topology = TopologyLoader.Load(result.GetValue(CommonOptions.TopologyFile)!);
            }
            catch (TopologyException e)
            {
                Terminal.Problems(e);
                return 2;
            }
            if (await RefuseToStartAsync(state, topology) is { } refusal)
            {
                Terminal.Error(refusal);
                return 1;
            }
            state.Create();
            TopologySnapshot.Save(state, result.GetValue(CommonOptions.TopologyFile)!);
            var readyTimeout = TimeSpan.FromSeconds(result.GetValue(timeout));
            return result.GetValue(detach) ? await DetachedAsync(state, topology, readyTimeout) : await ForegroundAsync(state, topology, readyTimeout);
        });
        return command;
    }

    private static async Task<string?> RefuseToStartAsync(StateDirectory state, Topology.Topology topology)
    {
        if (state.SocketPathProblem() is { } tooLong)
        {
            return tooLong;
        }
        if (topology.Lb.Mode == LbMode.ActiveActive && topology.ServersWith(Role.Dns).Count == 0)
        {
            // Both load balancers serving needs DNS to hand out both addresses; without it clients
            // would know only one, and the pair would not be a pair.
            return "lb.mode: active-active needs a dns server in the topology to hand out both load balancers' addresses: add one (roles: [dns]), or use active-passive";
        }
        if (topology.ServersWith(Role.Web).Count > 0 && !Directory.Exists(topology.WebRootPath))
        {
            return $"web.root: the static site directory {topology.WebRootPath} does not exist; create it, or set web.root in the topology to a directory of static files";
        }
        using (var running = await ControlClient.TryConnectAsync(state))
        {
            if (running is not null)
            {
                var status = await running.StatusAsync();
                return $"this topology is already running (state {state.Root}, control plane pid {status.ControlPlanePid}); see 'foobar status', or stop it with 'foobar down'";
            }
        }
        var survivors = ProcessSweeper.Survivors(state);
        if (survivors.Count > 0)
        {
            return $"{survivors.Count} process(es) of an earlier run in {state.Root} are still running without their control plane " +
                $"({string.Join(", ", survivors.Select(s => Path.GetFileNameWithoutExtension(s.PidFile)))}); stop them with 'foobar down --state {state.Root}'";
        }
        var conflicts = AddressCheck.FindConflicts(topology);
        return conflicts.Count == 0 ? null : "cannot start: " + string.Join("; ", conflicts);
    }

    private static async Task<int> ForegroundAsync(StateDirectory state, Topology.Topology topology, TimeSpan readyTimeout)
    {
        var controlPlane = new ControlPlane.ControlPlane(topology, state);
        using var signal = new ShutdownSignal();
        var running = controlPlane.RunAsync(signal.Token);
        var report = await WaitUntilReadyAsync(() => Task.FromResult<StatusReport?>(controlPlane.Snapshot()), running, state, readyTimeout, signal.Token);
        if (report is null)
        {
            controlPlane.RequestShutdown();
            await running;
            return 1;
        }
        StatusView.Endpoints(report);
        AnsiConsole.MarkupLine("[grey]Running in the foreground: Ctrl+C stops everything (or use --detach).[/]");
        await running;
        Terminal.Ok("every server stopped");
        return 0;
    }

    private static async Task<int> DetachedAsync(StateDirectory state, Topology.Topology topology, TimeSpan readyTimeout)
    {
        var log = Path.Combine(state.LogDirectory, "control-plane.log");
        using var process = DetachedProcess.Start([.. FoobarExecutable.Command(), "control-plane", "--state", state.Root], log);
        ControlClient? client = null;
        try
        {
            var exited = process.WaitForExitAsync();
            var report = await WaitUntilReadyAsync(async () =>
            {
                client ??= await ControlClient.TryConnectAsync(state);
                return client is null ? null : await client.StatusAsync();
            }, exited, state, readyTimeout, CancellationToken.None);
            if (report is null)
            {
                await StopDetachedAsync(state, process, client, exited);
                return 1;
            }
            StatusView.Endpoints(report);
            AnsiConsole.MarkupLine($"[grey]The control plane runs in the background (pid {report.ControlPlanePid}, log {Markup.Escape(log)}).[/]");
            return 0;
        }
        finally
        {
            client?.Dispose();
        }
    }

    /// <summary>Undoes a failed detached start: ask the control plane, else signal it, then sweep whatever is left.</summary>
    private static async Task StopDetachedAsync(StateDirectory state, Process process, ControlClient? client, Task exited)
    {
        if (client is not null)
        {
            await client.ShutdownAsync();
        }
        else if (ProcessIdentity.Of(process.Id) is { } controlPlane)
        {
            Signals.Send(controlPlane, Signals.Terminate);
        }
        try
        {
            await exited.WaitAsync(ControlPlane.ControlPlane.StopGrace * 2);
        }
        catch (TimeoutException)
        {
            Terminal.Error($"the control plane (pid {process.Id}) did not stop; killing what is left");
        }
        await ProcessSweeper.StopAllAsync(state, ControlPlane.ControlPlane.StopGrace);
    }

    /// <summary>Polls status until ready, printing each server as it becomes ready; null on failure or timeout.</summary>
    private static async Task<StatusReport?> WaitUntilReadyAsync(Func<Task<StatusReport?>> poll, Task controlPlaneExited, StateDirectory state, TimeSpan readyTimeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var announced = new HashSet<string>();
        StatusReport? last = null;
        await AnsiConsole.Status().StartAsync("Starting the control plane", async context =>
        {
            while (clock.Elapsed < readyTimeout && !controlPlaneExited.IsCompleted && !cancellationToken.IsCancellationRequested)
            {
                last = await poll() ?? last;
                if (last is not null)
                {
                    foreach (var server in last.Servers.Where(s => s.Ready && announced.Add(s.Name)))
                    {
                        Terminal.Ok($"{server.Name,-6} {string.Join(",", server.Roles),-8} {server.Address,-15} ready  {clock.Elapsed.TotalSeconds,5:0.0} s");
                    }
                    if (last.Ready)
                    {
                        return;
                    }
                    var waiting = last.Servers.Where(s => !s.Ready).Select(s => s.Name).ToList();
                    context.Status(waiting.Count > 0
                        ? $"{last.Servers.Count - waiting.Count}/{last.Servers.Count} ready; waiting for {string.Join(", ", waiting)}"
                        : "waiting for a load balancer to take the public address");
                }
                await Task.Delay(100, CancellationToken.None);
            }
        });
        if (last is { Ready: true })
        {
            Terminal.Ok($"everything ready in {clock.Elapsed.TotalSeconds:0.0} s");
            return last;
        }
        if (cancellationToken.IsCancellationRequested)
        {
            Terminal.Error("interrupted; stopping everything");
            return null;
        }
        ExplainFailure(last, controlPlaneExited.IsCompleted, state, readyTimeout);
        return null;
    }

    private static void ExplainFailure(StatusReport? last, bool controlPlaneExited, StateDirectory state, TimeSpan readyTimeout)
    {
        if (controlPlaneExited)
        {
            var log = Path.Combine(state.LogDirectory, "control-plane.log");
            Terminal.Error($"the control plane exited before everything was ready; last lines of {log}:");
            Terminal.Line(StateDirectory.Tail(log));
            return;
        }
        Terminal.Error($"not ready within {readyTimeout.TotalSeconds:0.#} s; stopping everything");
        foreach (var server in last?.Servers.Where(s => !s.Ready) ?? [])
        {
            Terminal.Error($"{server.Name} is {server.State}: {server.LastEvent}; last lines of {state.LogFile(server.Name)}:");
            Terminal.Line(StateDirectory.Tail(state.LogFile(server.Name)));
        }
        if (last is { Public.HeldBy: null })
        {
            Terminal.Error($"no load balancer holds the public address {last.Public.Address}:{last.Public.HttpPort}");
        }
    }
}
