using System.CommandLine;
using Foobar.Cli.Output;

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
        command.SetAction(async result =>
        {
            using var client = await ControlPlaneConnection.ConnectAsync(CommonOptions.StateOf(result));
            if (client is null)
            {
                return ControlPlaneConnection.NotRunningExitCode;
            }
            var (ok, message) = await client.SetDrainingAsync(result.GetValue(server)!, drain);
            if (!ok)
            {
                Terminal.Error(message);
                return 1;
            }
            Terminal.Ok(message);
            return 0;
        });
        return command;
    }
}
