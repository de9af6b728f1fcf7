using System.CommandLine;
using Foobar.ControlPlane.State;
using Foobar.Topology.Loading;

namespace Foobar.Cli.Commands;

/// <summary>Options several commands share.</summary>
internal static class CommonOptions
{
    public static readonly Option<string> State = new("--state")
    {
        Description = "State directory of the infrastructure (pids, logs, sockets)",
        DefaultValueFactory = _ => StateDirectory.DefaultPath,
        Recursive = true,
        HelpName = "DIR",
    };

    public static readonly Option<string> TopologyFile = new("--topology", "-t")
    {
        Description = "Topology file",
        DefaultValueFactory = _ => TopologyLoader.DefaultFileName,
        HelpName = "FILE",
    };

    public static StateDirectory StateOf(ParseResult result) => new(result.GetValue(State)!);
}
