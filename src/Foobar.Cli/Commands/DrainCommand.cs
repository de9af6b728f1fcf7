using System.CommandLine;

namespace Foobar.Cli.Commands;

/// <summary>
/// <c>foobar lb drain|ready WEB_SERVER</c> and <c>foobar web drain|ready APP_SERVER</c>: take a
/// server out of its front tier's rotation gracefully, and back.
/// </summary>
internal static class DrainCommand
{
    /// <summary>The command for the <paramref name="front"/> tier (lb or web), whose servers behind are <paramref name="behind"/>.</summary>
    public static Command Create(string front, string behind) => new(front, $"The {(front == "lb" ? "load balancer" : "web")} tier: drain a {behind} server, make it ready again")
    {
        Action(front, behind, "drain", $"Stop sending new requests to a {behind} server on every {front} server; requests in flight finish", drain: true),
        Action(front, behind, "ready", $"Send requests to a drained {behind} server again", drain: false),
    };

    private static Command Action(string front, string behind, string name, string description, bool drain)
    {
        var server = new Argument<string>("SERVER") { Description = $"A {behind} server of the topology" };
        var command = new Command(name, description) { server };
        command.SetAction(result => ControlPlaneConnection.RequestAsync(CommonOptions.StateOf(result),
            client => client.SetDrainingAsync(front, result.GetValue(server)!, drain)));
        return command;
    }
}
