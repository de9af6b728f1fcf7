using System.Diagnostics;

namespace Foobar.EndToEnd.Tests;

/// <summary>Runs the real <c>foobar</c> executable built beside the tests.</summary>
public static class FoobarCli
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string Output => Stdout + Stderr;
    }

    public static async Task<Result> RunAsync(params string[] args)
    {
        using var process = Start(args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"foobar {string.Join(' ', args)} did not finish within {Timeout}");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Starts foobar and returns at once; the caller reads its output and waits for it.</summary>
    public static Process Start(params string[] args) => Start(asBackgroundJob: false, args);

    /// <summary>
    /// <see cref="Start(string[])"/>, but with SIGINT and SIGQUIT ignored from the start, as a
    /// non-interactive shell starts a background job (<c>foobar up &amp;</c> in a script).
    /// </summary>
    public static Process StartAsBackgroundJob(params string[] args) => Start(asBackgroundJob: true, args);

    private static Process Start(bool asBackgroundJob, string[] args)
    {
        var start = new ProcessStartInfo(asBackgroundJob ? "/bin/sh" : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (asBackgroundJob)
        {
            // Ignored signals stay ignored across exec; the pid stays the command's.
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("trap '' INT QUIT; exec \"$0\" \"$@\"");
            start.ArgumentList.Add("dotnet");
        }
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "foobar.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["NO_COLOR"] = "1";
        var process = Process.Start(start)!;
        process.StandardInput.Close();
        return process;
    }
}
