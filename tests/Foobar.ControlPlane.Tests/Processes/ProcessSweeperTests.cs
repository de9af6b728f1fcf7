using System.Diagnostics;
using Foobar.ControlPlane.Processes;
using Foobar.ControlPlane.State;
using Foobar.Testing;
using Foobar.Server.Processes;

namespace Foobar.ControlPlane.Tests.Processes;

/// <summary>Real child processes (sh, sleep) started the way the control plane starts servers.</summary>
public sealed class ProcessSweeperTests : IDisposable
{
    private readonly StateDirectory _state = new(Directory.CreateTempSubdirectory("foobar-sweep-").FullName);
    private readonly List<Process> _started = [];

    public ProcessSweeperTests() => _state.Create();

    [Fact]
    public async Task StopAll_ProcessesThatHonourSigterm_StopWithoutSigkill()
    {
        var a = await StartAsync("a", "touch a.ready; exec sleep 60");
        var b = await StartAsync("b", "touch b.ready; exec sleep 60");

        var killed = await ProcessSweeper.StopAllAsync(_state, TimeSpan.FromSeconds(10));

        Assert.Empty(killed);
        await Exited(a);
        await Exited(b);
        Assert.Empty(Directory.GetFiles(_state.PidDirectory));
    }

    [Fact]
    public async Task StopAll_ProcessIgnoringSigterm_IsKilledAfterTheGrace()
    {
        var stubborn = await StartAsync("stubborn", "trap '' TERM; touch stubborn.ready; while true; do sleep 0.05; done");

        var killed = await ProcessSweeper.StopAllAsync(_state, TimeSpan.FromMilliseconds(300));

        Assert.Equal([stubborn.Id], killed.Select(k => k.Pid));
        await Exited(stubborn);
    }

    [Fact]
    public async Task StopAll_ReachesTheWholeProcessGroup()
    {
        // The leader starts a child of its own, as a db server starts mariadbd.
        var leader = await StartAsync("leader", "sleep 60 & echo $! > child.pid; touch leader.ready; wait");
        var child = int.Parse(File.ReadAllText(Path.Combine(_state.Root, "child.pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);

        await ProcessSweeper.StopAllAsync(_state, TimeSpan.FromSeconds(10));

        await Exited(leader);
        await Eventually.TrueAsync(() => ProcessIdentity.Of(child) is null, "child gone");
    }

    [Fact]
    public void Survivors_StalePidFileOfAReusedPid_IsIgnoredAndRemoved()
    {
        var self = ProcessIdentity.Of(Environment.ProcessId)!;
        PidFile.Write(_state.PidFile("ghost"), self with { StartTicks = self.StartTicks + 1 });

        Assert.Empty(ProcessSweeper.Survivors(_state));
        Assert.False(File.Exists(_state.PidFile("ghost")));
    }

    public void Dispose()
    {
        foreach (var process in _started)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
            process.Dispose();
        }
        Directory.Delete(_state.Root, recursive: true);
    }

    /// <summary>Starts <paramref name="script"/> in the state directory; it must touch NAME.ready once set up.</summary>
    private async Task<Process> StartAsync(string name, string script)
    {
        var process = DetachedProcess.Start(["sh", "-c", $"cd '{_state.Root}'; {script}"], _state.LogFile(name));
        _started.Add(process);
        PidFile.Write(_state.PidFile(name), ProcessIdentity.Of(process.Id)!);
        await Eventually.TrueAsync(() => File.Exists(Path.Combine(_state.Root, name + ".ready")), $"{name} set up");
        return process;
    }

    private static Task Exited(Process process) => process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
}
