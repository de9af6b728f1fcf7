using Foobar.Server.Processes;
using System.CommandLine;
using System.Diagnostics;
using Foobar.Cli.Output;
using Foobar.ControlPlane.Api;
using Foobar.ControlPlane.Processes;

namespace Foobar.Cli.Commands;

/// <summary>
/// <c>foobar down</c>: the control plane stops every server gracefully and exits; then every pid
/// file of the state directory is checked and any survivor is stopped (SIGTERM, then SIGKILL), so
/// nothing is left behind even when the control plane had been killed.
/// </summary>
internal static class DownCommand
{
    private static readonly TimeSpan ControlPlaneExitTimeout = TimeSpan.FromSeconds(60);

    public static Command Create()
    {
        var command = new Command("down", "Stop everything; no process left behind");
        command.SetAction(async result =>
        {
            var state = CommonOptions.StateOf(result);
            var clock = Stopwatch.StartNew();
            var controlPlane = PidFile.Read(state.ControlPlanePidFile);
            using (var client = await ControlClient.TryConnectAsync(state))
            {
                if (client is not null)
                {
                    Terminal.Info("asking the control plane to stop every server");
                    await client.ShutdownAsync();
                    while (controlPlane is { IsAlive: true } && clock.Elapsed < ControlPlaneExitTimeout)
                    {
                        await Task.Delay(50);
                    }
                }
            }
            var killed = await ProcessSweeper.StopAllAsync(state, ControlPlane.ControlPlane.StopGrace);
            foreach (var process in killed)
            {
                Terminal.Info($"pid {process.Pid} had to be killed with SIGKILL");
            }
            var left = ProcessSweeper.Survivors(state);
            if (left.Count > 0)
            {
                Terminal.Error($"still running: {string.Join(", ", left.Select(l => $"{Path.GetFileNameWithoutExtension(l.PidFile)} (pid {l.Process.Pid})"))}");
                return 1;
            }
            if (File.Exists(state.ControlSocket))
            {
                File.Delete(state.ControlSocket);
            }
            Terminal.Ok($"everything stopped in {clock.Elapsed.TotalSeconds:0.0} s; no process of {state.Root} is left");
            return 0;
        });
        return command;
    }
}
