using System.CommandLine;

namespace Foobar.Cli.Commands;

/// <summary><c>foobar rollout web|app</c>: restart a tier's servers one at a time without failing a request.</summary>
internal static class RolloutCommand
{
    public static Command Create()
    {
        var tier = new Argument<string>("TIER") { Description = "web or app" };
        var command = new Command("rollout", "Restart every server of a tier one at a time: each leaves rotation, its requests finish, it restarts, and it is back in rotation before the next (to pick up a new build or application)")
        {
            tier,
        };
        command.SetAction(result => ControlPlaneConnection.RequestAsync(CommonOptions.StateOf(result),
            client => client.RolloutAsync(result.GetValue(tier)!)));
        return command;
    }
}
