using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Foobar.EndToEnd.Tests;

/// <summary>up and down themselves: refusals, and no process left behind even without the control plane.</summary>
public class LifecycleTests
{
    [Fact]
    public async Task Down_AfterControlPlaneKilled_LeavesNoProcess()
    {
        await using var topology = new RunningTopology();
        await topology.InitializeAsync();
        var status = await topology.StatusAsync();
        var pids = status.Servers.Select(s => s.Pid!.Value).Append(status.ControlPlanePid).ToList();

        using (var controlPlane = Process.GetProcessById(status.ControlPlanePid))
        {
            controlPlane.Kill();
        }
        await Poll.UntilAsync(() => Task.FromResult(ProcessState.IsRunning(status.ControlPlanePid)), running => !running, TimeSpan.FromSeconds(10), "control plane gone");
        // The servers outlive their control plane: the site keeps answering, and status says what is left.
        Assert.InRange((await topology.ServedPathAsync("/")).Length, 3, 4);
        var orphaned = await topology.CliAsync("status");
        Assert.Equal(3, orphaned.ExitCode);
        Assert.Contains("is not running, but 9 of its processes still are", orphaned.Stderr);

        var down = await topology.CliAsync("down");

        Assert.True(down.ExitCode == 0, down.Output);
        Assert.DoesNotContain(pids, ProcessState.IsRunning);
        Assert.Empty(await topology.PathOfAsync("/"));
    }

    [Fact]
    public async Task Down_AfterUp_StopsEveryProcessGracefully()
    {
        await using var topology = new RunningTopology();
        await topology.InitializeAsync();
        var status = await topology.StatusAsync();

        var down = await topology.CliAsync("down");

        Assert.True(down.ExitCode == 0, down.Output);
        Assert.Contains("everything stopped", down.Stdout);
        Assert.DoesNotContain("SIGKILL", down.Output);
        Assert.DoesNotContain(status.Servers.Select(s => s.Pid!.Value).Append(status.ControlPlanePid), ProcessState.IsRunning);
        Assert.Equal(3, (await FoobarCli.RunAsync("status", "--state", topology.StateDirectory)).ExitCode);
    }

    [Fact]
    public async Task Up_InTheForeground_RunsUntilSigtermThenStopsEverything()
    {
        await using var topology = new RunningTopology();
        using var up = FoobarCli.Start("up", "-t", topology.TopologyFile, "--state", topology.StateDirectory);
        var stdout = up.StandardOutput.ReadToEndAsync();
        var stderr = up.StandardError.ReadToEndAsync();

        var status = await topology.WaitUntilReadyAsync("foreground up ready");
        Assert.InRange((await topology.ServedPathAsync("/")).Length, 3, 4);
        Assert.Equal(up.Id, status.ControlPlanePid);

        Signal.Send(up.Id, Signal.Terminate);
        await up.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(up.ExitCode == 0, await stdout + await stderr);
        Assert.Contains("every server stopped", await stdout);
        Assert.DoesNotContain(status.Servers.Select(s => s.Pid!.Value), ProcessState.IsRunning);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(topology.StateDirectory, "pids")));
    }

    [Fact]
    public async Task Up_AsABackgroundJobIgnoringSigint_DownStopsEveryServerGracefully()
    {
        await using var topology = new RunningTopology();
        using var up = FoobarCli.StartAsBackgroundJob("up", "-t", topology.TopologyFile, "--state", topology.StateDirectory);
        var stdout = up.StandardOutput.ReadToEndAsync();
        var stderr = up.StandardError.ReadToEndAsync();
        var status = await topology.WaitUntilReadyAsync("background up ready");

        // The servers inherit the ignored SIGINT, which is how the control plane stops a drained web
        // or app server: they must still take it, not wait out the grace period and be killed.
        var down = await topology.CliAsync("down");
        await up.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(down.ExitCode == 0, down.Output);
        Assert.True(up.ExitCode == 0, await stdout + await stderr);
        var events = await File.ReadAllTextAsync(Path.Combine(topology.StateDirectory, "events.log"));
        Assert.DoesNotContain("killing it", events);
        Assert.DoesNotContain("SIGKILL", down.Output);
        Assert.DoesNotContain(status.Servers.Select(s => s.Pid!.Value), ProcessState.IsRunning);
    }

    [Fact]
    public async Task Up_PortTaken_IsAClearErrorAndStartsNothing()
    {
        await using var topology = new RunningTopology();
        using var squatter = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        squatter.Bind(new IPEndPoint(topology.PublicAddress, 80));
        squatter.Listen();

        var up = await FoobarCli.RunAsync("up", "--detach", "-t", topology.TopologyFile, "--state", topology.StateDirectory);

        Assert.Equal(1, up.ExitCode);
        Assert.Contains($"{topology.PublicAddress}:80 (the public address) is already in use", up.Stderr);
        Assert.False(Directory.Exists(Path.Combine(topology.StateDirectory, "pids")) && Directory.EnumerateFiles(Path.Combine(topology.StateDirectory, "pids")).Any());
    }

    [Fact]
    public async Task Up_NotReadyWithinTheTimeout_ExplainsAndLeavesNothingRunning()
    {
        await using var topology = new RunningTopology();

        var up = await FoobarCli.RunAsync("up", "--detach", "--timeout", "0.2", "-t", topology.TopologyFile, "--state", topology.StateDirectory);

        Assert.Equal(1, up.ExitCode);
        Assert.Contains("not ready within 0.2 s; stopping everything", up.Stderr);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(topology.StateDirectory, "pids")));
        Assert.False(File.Exists(Path.Combine(topology.StateDirectory, "control-plane.pid")));
        Assert.Empty(await topology.PathOfAsync("/"));
    }

    [Fact]
    public async Task Up_MissingWebRoot_IsAClearErrorBeforeAnythingStarts()
    {
        await using var topology = new RunningTopology();
        var yaml = await File.ReadAllTextAsync(topology.TopologyFile);
        await File.WriteAllTextAsync(topology.TopologyFile, System.Text.RegularExpressions.Regex.Replace(yaml, "root: .*", "root: /nonexistent/site"));

        var up = await FoobarCli.RunAsync("up", "--detach", "-t", topology.TopologyFile, "--state", topology.StateDirectory);

        Assert.Equal(1, up.ExitCode);
        Assert.Contains("web.root: the static site directory /nonexistent/site does not exist", up.Stderr);
        Assert.False(Directory.Exists(topology.StateDirectory));
    }

    [Fact]
    public async Task Up_ActiveActiveWithoutADnsServer_IsRefusedRatherThanRunAsSomethingElse()
    {
        await using var topology = new RunningTopology();
        var yaml = await File.ReadAllTextAsync(topology.TopologyFile);
        await File.WriteAllTextAsync(topology.TopologyFile, yaml.Replace("mode: active-passive", "mode: active-active", StringComparison.Ordinal)
            .Replace("  dns1: { roles: [dns] }\n", "", StringComparison.Ordinal));

        var up = await FoobarCli.RunAsync("up", "--detach", "-t", topology.TopologyFile, "--state", topology.StateDirectory);

        Assert.Equal(1, up.ExitCode);
        Assert.Contains("lb.mode: active-active needs a dns server in the topology", up.Stderr);
    }

    [Fact]
    public async Task Up_BadTimeout_IsRejected()
    {
        var up = await FoobarCli.RunAsync("up", "--timeout", "-1", "--state", Path.Combine(Path.GetTempPath(), "foobar-e2e-none"));

        Assert.NotEqual(0, up.ExitCode);
        Assert.Contains("--timeout must be a positive number of seconds", up.Output);
    }

    [Fact]
    public async Task Up_InvalidTopology_ListsEveryProblemWithFileAndLine()
    {
        var directory = Directory.CreateTempSubdirectory("foobar-e2e-bad-").FullName;
        var file = Path.Combine(directory, "bad.yaml");
        await File.WriteAllTextAsync(file, "network: { range: 127.250.0.0/24 }\nservers:\n  lb1: { roles: [lb] }\n  web1: { roles: [web, cache] }\n");

        var up = await FoobarCli.RunAsync("up", "-t", file, "--state", Path.Combine(directory, "state"));

        Assert.Equal(2, up.ExitCode);
        Assert.Contains($"{file}:4:", up.Stderr);
        Assert.Contains("unknown role 'cache'", up.Stderr);
        Assert.Contains("nothing was started", up.Stderr);
        Assert.False(Directory.Exists(Path.Combine(directory, "state")));
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task Up_MissingTopologyFile_SaysWhichFile()
    {
        var up = await FoobarCli.RunAsync("up", "-t", "/nonexistent/foobar.yaml", "--state", Path.Combine(Path.GetTempPath(), "foobar-e2e-none"));

        Assert.Equal(2, up.ExitCode);
        Assert.Contains("/nonexistent/foobar.yaml", up.Stderr);
    }
}
