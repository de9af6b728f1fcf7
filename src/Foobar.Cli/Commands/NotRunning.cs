using Foobar.ControlPlane.State;

namespace Foobar.Cli.Commands;

internal static class NotRunning
{
    public static string Message(StateDirectory state) =>
        $"no control plane is running for the state directory {state.Root}; start it with 'foobar up' (or pass --state with the directory 'up' used)";
}
