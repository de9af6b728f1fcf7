using System.CommandLine;

namespace Foobar.Cli.Commands;

/// <summary><c>foobar lb drain|ready SERVER</c>: take a web server out of rotation gracefully, and back.</summary>
internal static class LbCommand
{
    public static Command Create() => new("lb", "The load balancer tier: drain a web server, make it ready again")
    {
        Action("drain", "Stop sending new requests to a web server on every load balancer; requests in flight finish", drain: true),
        Action("ready", "Send requests to a drained web server again", drain: false),
    };

    private static Command Action(string name, string description, bool drain)
    {
        var server = new Argument<string>("SERVER") { Description = "A web server of the topology" };
        var command = new Command(name, description) { server };
        command.SetAction(result => ControlPlaneConnection.RequestAsync(CommonOptions.StateOf(result),
            client => client.SetDrainingAsync(result.GetValue(server)!, drain)));
        return command;
    }
}
