using System.CommandLine;
using System.Diagnostics;
using Foobar.Cli.Output;
using Foobar.ControlPlane.Api;

namespace Foobar.Cli.Commands;

/// <summary><c>foobar kill|stop|start|restart SERVER</c>: fault injection and operations on one server.</summary>
internal static class ServerActionCommand
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);

    public static Command Create(string action, string description)
    {
        var server = new Argument<string>("SERVER") { Description = "Server name, as in 'foobar status'" };
        var command = new Command(action, description) { server };
        command.SetAction(async result =>
        {
            var state = CommonOptions.StateOf(result);
            using var client = await ControlPlaneConnection.ConnectAsync(state);
            if (client is null)
            {
                return ControlPlaneConnection.NotRunningExitCode;
            }
            var name = result.GetValue(server)!;
            var (ok, message) = await client.ActAsync(name, action);
            if (!ok)
            {
                Terminal.Error(message);
                return 2;
            }
            Terminal.Ok(message);
            return action is "start" or "restart" ? await WaitReadyAsync(client, name) : 0;
        });
        return command;
    }

    private static async Task<int> WaitReadyAsync(ControlClient client, string name)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < ReadyTimeout)
        {
            var server = (await client.StatusAsync()).Servers.Single(s => s.Name == name);
            if (server.Ready)
            {
                Terminal.Ok($"{name} ready in {clock.Elapsed.TotalSeconds:0.0} s (pid {server.Pid})");
                return 0;
            }
            await Task.Delay(100);
        }
        Terminal.Error($"{name} is not ready after {ReadyTimeout.TotalSeconds:0} s; see 'foobar status' and its log");
        return 1;
    }
}
