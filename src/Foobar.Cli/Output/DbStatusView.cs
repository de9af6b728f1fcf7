using Foobar.ControlPlane.Database;
using Foobar.Topology.Loading;
using Spectre.Console;

namespace Foobar.Cli.Output;

/// <summary>The table of <c>foobar db status</c>.</summary>
internal static class DbStatusView
{
    public static void Render(DbStatusReport report)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("Server", "Endpoint", "Role", "Read-only", "GTID position", "Replicates from", "Replication", "Lag", "Semi-sync", "Disk free");
        foreach (var server in report.Servers)
        {
            var color = server.Role switch
            {
                "primary" => "green",
                "replica" => "blue",
                _ => "red",
            };
            table.AddRow(
                Markup.Escape(server.Name),
                Markup.Escape(server.Endpoint),
                $"[{color}]{Markup.Escape(server.Role)}[/]",
                server.ReadOnly switch { true => "yes", false => "no", null => "-" },
                Markup.Escape(server.GtidPosition.Length == 0 ? "(empty)" : server.GtidPosition),
                Markup.Escape(server.ReplicaOf ?? "-"),
                Markup.Escape(server.Error ?? server.Replication ?? "-"),
                server.LagSeconds is { } lag ? $"{lag} s" : "-",
                Markup.Escape(server.SemiSync ?? "-"),
                server.DiskFreeBytes is { } free ? SizeText.Format(free) : "-");
        }
        AnsiConsole.Write(table);
        var failover = report.LastFailoverAt is { } at ? $", last automatic failover {at:yyyy-MM-dd HH:mm:ss} UTC" : "";
        AnsiConsole.MarkupLine($"Primary [bold]{Markup.Escape(report.Primary)}[/] (changed {report.Epoch} time(s){Markup.Escape(failover)})");
        foreach (var alert in report.Alerts)
        {
            AnsiConsole.MarkupLine($"[red]ALERT[/] {Markup.Escape(alert)}");
        }
    }
}
