using Foobar.ControlPlane.Status;
using Spectre.Console;

namespace Foobar.Cli.Output;

/// <summary>The server table and the endpoint lines of <c>status</c> and <c>up</c>.</summary>
internal static class StatusView
{
    public static void Render(StatusReport report)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("Server", "Roles", "Address", "State", "Pid", "Uptime", "Restarts", "Detail");
        foreach (var server in report.Servers)
        {
            table.AddRow(
                Markup.Escape(server.Name),
                Markup.Escape(string.Join(",", server.Roles)),
                Markup.Escape(server.Address),
                StateMarkup(server),
                server.Pid?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-",
                server.UptimeSeconds is { } up ? Uptime(up) : "-",
                server.Restarts.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(Detail(server)));
        }
        AnsiConsole.Write(table);
        var holder = report.Public.HeldBy is { } lb ? $"held by {lb}" : "not held by any load balancer";
        AnsiConsole.MarkupLine($"Public address [bold]{Markup.Escape(report.Public.Address)}:{report.Public.HttpPort}[/] ({Markup.Escape(holder)})");
        AnsiConsole.MarkupLine($"Site: [link]{Markup.Escape(report.Public.Url)}[/]   try: [bold]{Markup.Escape(report.Public.Curl)}[/]");
    }

    public static void Endpoints(StatusReport report)
    {
        AnsiConsole.WriteLine();
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(report.Public.Host)}[/] is up at [link]{Markup.Escape(report.Public.Url)}[/] (public address {Markup.Escape(report.Public.Address)}, held by {Markup.Escape(report.Public.HeldBy ?? "-")})");
        AnsiConsole.WriteLine();
        // The hints name a server of this topology and the state directory when it is not the default.
        var victim = report.Servers.FirstOrDefault(s => s.Roles.Contains("web"))?.Name ?? report.Servers[0].Name;
        var state = report.StateDirectory == Path.GetFullPath(ControlPlane.State.StateDirectory.DefaultPath) ? "" : $" --state {report.StateDirectory}";
        AnsiConsole.WriteLine("Try:");
        AnsiConsole.WriteLine($"  {report.Public.Curl}   # X-Served-By shows the path");
        AnsiConsole.WriteLine($"  foobar status{state}   # every server, its pid, state and restarts");
        AnsiConsole.WriteLine($"  foobar kill {victim}{state}   # SIGKILL one server; the site keeps answering");
        AnsiConsole.WriteLine($"  foobar start {victim}{state}   # and back into rotation");
        AnsiConsole.WriteLine($"  foobar down{state}   # stop everything");
        AnsiConsole.WriteLine($"A browser needs www.{report.Domain} to resolve to {report.Public.Address}: add '{report.Public.Address} www.{report.Domain}' to /etc/hosts, or open {report.Public.DirectUrl}");
        if (report.Public.Authority is { } authority)
        {
            AnsiConsole.WriteLine($"HTTPS certificates come from this topology's own authority: trust {authority} (browser settings, curl --cacert)");
        }
    }

    private static string StateMarkup(ServerStatus server)
    {
        var color = server.State switch
        {
            "running" when server.Ready => "green",
            "running" or "starting" or "stopping" => "yellow",
            "backoff" or "killed" => "red",
            _ => "grey",
        };
        var text = server.State == "running" && !server.Ready ? "running (unhealthy)" : server.State;
        return $"[{color}]{Markup.Escape(text)}[/]";
    }

    private static string Detail(ServerStatus server)
    {
        if (server.RoleHealth.Count > 0)
        {
            return string.Join("; ", server.RoleHealth.Select(r => $"{r.Role}: {r.Detail}"));
        }
        return server.LastEvent ?? "";
    }

    private static string Uptime(double seconds) =>
        seconds < 120 ? $"{seconds:0}s" : seconds < 7200 ? $"{seconds / 60:0}m" : $"{seconds / 3600:0.#}h";
}
