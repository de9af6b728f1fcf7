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
