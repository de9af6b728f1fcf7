using System.CommandLine;
using Foobar.Cli.Output;
using Foobar.Topology.Loading;

namespace Foobar.Cli.Commands;

/// <summary><c>foobar reload [-t FILE]</c>: apply web and app servers added to or removed from the topology file, without dropping a connection.</summary>
internal static class ReloadCommand
{
    public static Command Create()
    {
        var command = new Command("reload", "Apply a changed topology file to the running infrastructure: web and app servers added or removed, weights; no connection dropped")
        {
            CommonOptions.TopologyFile,
        };
        command.SetAction(async result =>
        {
            var file = Path.GetFullPath(result.GetValue(CommonOptions.TopologyFile)!);
            try
            {
                // Checked here too, so the problems print as 'up' prints them, with line and column.
                TopologyLoader.Load(file);
            }
            catch (TopologyException e)
            {
                Terminal.Problems(e);
                return 2;
            }
            return await ControlPlaneConnection.RequestAsync(CommonOptions.StateOf(result), client => client.ReloadAsync(file));
        });
        return command;
    }
}
