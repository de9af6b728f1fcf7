using Foobar.Cli.Output;
using Foobar.ControlPlane.Api;
using Foobar.ControlPlane.Processes;
using Foobar.ControlPlane.State;

namespace Foobar.Cli.Commands;

/// <summary>Connecting to the control plane of a state directory, or saying clearly why not.</summary>
internal static class ControlPlaneConnection
{
    /// <summary>Exit code when no control plane runs.</summary>
    public const int NotRunningExitCode = 3;

    /// <summary>
    /// Connects, sends one request answered by (ok, message) and prints the message; the exit code
    /// is 0, <paramref name="failedExitCode"/> when refused, or <see cref="NotRunningExitCode"/>.
    /// </summary>
    public static async Task<int> RequestAsync(StateDirectory state, Func<ControlClient, Task<(bool Ok, string Message)>> request, int failedExitCode = 1)
    {
        using var client = await ConnectAsync(state);
        if (client is null)
        {
            return NotRunningExitCode;
        }
        var (ok, message) = await request(client);
        if (!ok)
        {
            Terminal.Error(message);
            return failedExitCode;
        }
        Terminal.Ok(message);
        return 0;
    }

    /// <summary>A client, or null after printing what runs (nothing, or servers without their control plane) and what to do.</summary>
    public static async Task<ControlClient?> ConnectAsync(StateDirectory state)
    {
        var client = await ControlClient.TryConnectAsync(state);
        if (client is not null)
        {
            return client;
        }
        var orphans = ProcessSweeper.Survivors(state);
        Terminal.Error(orphans.Count > 0
            ? $"the control plane of {state.Root} is not running, but {orphans.Count} of its processes still are " +
              $"({string.Join(", ", orphans.Select(o => Path.GetFileNameWithoutExtension(o.PidFile)))}); stop them with 'foobar down', then 'foobar up'"
            : $"no control plane is running for the state directory {state.Root}; start it with 'foobar up' (or pass --state with the directory 'up' used)");
        return null;
    }
}
