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
    public static Process Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
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
