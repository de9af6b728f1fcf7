using System.CommandLine;
using Foobar.Cli.Output;
using Foobar.ControlPlane.State;
using Foobar.Server;
using Foobar.Topology.Loading;

namespace Foobar.Cli.Commands;

/// <summary><c>foobar serve NAME</c>: run one server in the foreground (the control plane starts these).</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("SERVER") { Description = "Server name from the topology" };
        var topology = new Option<string?>("--topology", "-t") { Description = "Topology file (default: the state directory's copy, else foobar.yaml)", HelpName = "FILE" };
        var command = new Command("serve", "Run one server of the topology in the foreground") { name, topology };
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                var state = CommonOptions.StateOf(result);
                var file = result.GetValue(topology);
                var loaded = LoadTopology(file, state);
                await ServerHost.RunAsync(loaded, result.GetValue(name)!, new ServerPaths(state.Root), cancellationToken, () => LoadTopology(file, state));
                return 0;
            }
            catch (RoleFailedException e)
            {
                Terminal.Error(e.Message);
                return 1;
            }
            catch (TopologyException e)
            {
                Terminal.Problems(e);
                return 2;
            }
            catch (ArgumentException e)
            {
                Terminal.Error(e.Message);
                return 2;
            }
            catch (Exception e) when (e is IOException or DirectoryNotFoundException or InvalidDataException)
            {
                Terminal.Error(e.Message);
                return 1;
            }
        });
        return command;
    }

    private static Topology.Topology LoadTopology(string? file, StateDirectory state) =>
        file is null && File.Exists(state.TopologyFile) ? TopologySnapshot.Load(state) : TopologyLoader.Load(file ?? TopologyLoader.DefaultFileName);
}
