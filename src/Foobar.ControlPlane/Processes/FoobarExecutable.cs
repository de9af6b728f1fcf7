using System.Reflection;

namespace Foobar.ControlPlane.Processes;

/// <summary>How to run this very program again (for <c>foobar serve</c> and the detached control plane).</summary>
public static class FoobarExecutable
{
    /// <summary>The command line prefix: the apphost, or <c>dotnet foobar.dll</c> when run through the muxer.</summary>
    public static IReadOnlyList<string> Command()
    {
        var process = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell which executable is running");
        if (Path.GetFileNameWithoutExtension(process) == "dotnet")
        {
            var entry = Assembly.GetEntryAssembly()?.Location ?? throw new InvalidOperationException("no entry assembly");
            return [process, entry];
        }
        return [process];
    }
}
