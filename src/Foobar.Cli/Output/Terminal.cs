using Foobar.Topology.Loading;
using Spectre.Console;

namespace Foobar.Cli.Output;

/// <summary>Console output: colours and live progress on a terminal, plain text otherwise.</summary>
internal static class Terminal
{
    /// <summary>Turns colours and animation off when output is redirected or NO_COLOR is set.</summary>
    public static void Configure()
    {
        var plain = Console.IsOutputRedirected || Environment.GetEnvironmentVariable("NO_COLOR") is { Length: > 0 };
        AnsiConsole.Profile.Capabilities.Ansi = !plain;
        AnsiConsole.Profile.Capabilities.ColorSystem = plain ? ColorSystem.NoColors : AnsiConsole.Profile.Capabilities.ColorSystem;
        AnsiConsole.Profile.Capabilities.Interactive = !plain && !Console.IsInputRedirected;
        if (plain)
        {
            AnsiConsole.Profile.Width = 200;
        }
    }

    public static bool Interactive => AnsiConsole.Profile.Capabilities.Interactive;

    public static void Line(string text) => AnsiConsole.WriteLine(text);

    public static void Ok(string text) => AnsiConsole.MarkupLine($"[green]✓[/] {Markup.Escape(text)}");

    public static void Info(string text) => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(text)}[/]");

    /// <summary>An error on stderr: <c>foobar: error: ...</c>, unwrapped when redirected so scripts see one line.</summary>
    public static void Error(string text)
    {
        if (Console.IsErrorRedirected || !AnsiConsole.Profile.Capabilities.Ansi)
        {
            Console.Error.WriteLine($"foobar: error: {text}");
            return;
        }
        Console.Error.WriteLine($"\u001b[31mfoobar: error:\u001b[0m {text}");
    }

    /// <summary>Every problem of a topology file, one per line, then how many.</summary>
    public static void Problems(TopologyException e)
    {
        foreach (var problem in e.Problems)
        {
            Error(problem.ToString());
        }
        Error($"{e.Problems.Count} problem(s) in the topology; nothing was started");
    }
}
