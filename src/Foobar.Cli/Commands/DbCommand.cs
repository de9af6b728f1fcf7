using System.CommandLine;
using System.Text.Json;
using Foobar.Cli.Output;
using Foobar.ControlPlane.Api;

namespace Foobar.Cli.Commands;

/// <summary><c>foobar db status|switchover</c>: the database tier as the orchestrator sees it, and planned primary changes.</summary>
internal static class DbCommand
{
    public static Command Create() => new("db", "The database tier: roles, replication, switchover") { Status(), Switchover() };

    private static Command Status()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON for scripts" };
        var command = new Command("status", "Show every db server: role, GTID position, replication, lag, semi-sync, alerts") { json };
        command.SetAction(async result =>
        {
            using var client = await ControlPlaneConnection.ConnectAsync(CommonOptions.StateOf(result));
            if (client is null)
            {
                return ControlPlaneConnection.NotRunningExitCode;
            }
            var (report, message) = await client.DbStatusAsync();
            if (report is null)
            {
                Terminal.Error(message);
                return 2;
            }
            if (result.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(report, ControlJson.Options));
            }
            else
            {
                DbStatusView.Render(report);
            }
            return report.Alerts.Count == 0 ? 0 : 1;
        });
        return command;
    }

    private static Command Switchover()
    {
        var to = new Option<string?>("--to") { Description = "The replica to promote (default: the connected replica with the least lag)", HelpName = "SERVER" };
        var command = new Command("switchover", "Make another server the primary with nothing lost: the primary stops taking writes, the replica catches up, roles swap") { to };
        command.SetAction(result => ControlPlaneConnection.RequestAsync(CommonOptions.StateOf(result),
            client => client.SwitchoverAsync(result.GetValue(to))));
        return command;
    }
}
