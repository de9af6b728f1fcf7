using System.CommandLine;
using System.Text.Json;
using Foobar.Cli.Output;
using Foobar.ControlPlane.Api;

namespace Foobar.Cli.Commands;

/// <summary><c>foobar status [--json]</c>: every server, its roles, address, state, pid, uptime, restarts.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON (with the public endpoint URLs) for scripts" };
        var command = new Command("status", "Show servers, roles, addresses, health and pids") { json };
        command.SetAction(async result =>
        {
            var state = CommonOptions.StateOf(result);
            using var client = await ControlPlaneConnection.ConnectAsync(state);
            if (client is null)
            {
                return ControlPlaneConnection.NotRunningExitCode;
            }
            var report = await client.StatusAsync();
            if (result.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(report, ControlJson.Options));
            }
            else
            {
                StatusView.Render(report);
            }
            return 0;
        });
        return command;
    }
}
