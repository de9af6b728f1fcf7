using System.CommandLine;
using Foobar.Cli.Output;
using Foobar.Server.Processes;
using Foobar.ControlPlane.State;
using Foobar.Topology.Loading;

namespace Foobar.Cli.Commands;

/// <summary>The detached control plane <c>foobar up --detach</c> leaves running. Not for people.</summary>
internal static class ControlPlaneCommand
{
    public static Command Create()
    {
        var command = new Command("control-plane", "Run the control plane of a prepared state directory") { Hidden = true };
        command.SetAction(async result =>
        {
            var state = CommonOptions.StateOf(result);
            try
            {
                var controlPlane = new ControlPlane.ControlPlane(TopologySnapshot.Load(state), state);
                using var signal = new ShutdownSignal(fromParent: true);
                await controlPlane.RunAsync(signal.Token);
                return 0;
            }
            catch (TopologyException e)
            {
                Terminal.Problems(e);
                return 2;
            }
        });
        return command;
    }
}
