using Foobar.ControlPlane.State;
using Foobar.Server.Processes;

namespace Foobar.ControlPlane.Processes;

/// <summary>
/// Stops every process a state directory's pid files name, whether or not the control plane that
/// started them is alive: the guarantee behind <c>foobar down</c> after the control plane was killed.
/// </summary>
public static class ProcessSweeper
{
    /// <summary>Pid files of the state directory whose process is still running.</summary>
    public static IReadOnlyList<(string PidFile, ProcessIdentity Process)> Survivors(StateDirectory state)
    {
        var files = Directory.Exists(state.PidDirectory) ? Directory.GetFiles(state.PidDirectory, "*.pid").ToList() : [];
        files.Add(state.ControlPlanePidFile);
        var result = new List<(string, ProcessIdentity)>();
        foreach (var file in files)
        {
            if (PidFile.Read(file) is { IsAlive: true } process)
            {
                result.Add((file, process));
            }
            else
            {
                PidFile.Delete(file);
            }
        }
        return result;
    }

    /// <summary>SIGTERM to every survivor's process group, SIGKILL to any left after <paramref name="grace"/>.</summary>
    /// <returns>The processes that had to be killed.</returns>
    public static async Task<IReadOnlyList<ProcessIdentity>> StopAllAsync(StateDirectory state, TimeSpan grace, CancellationToken cancellationToken = default)
    {
        var survivors = Survivors(state);
        foreach (var (_, process) in survivors)
        {
            Signals.SendToGroup(process, Signals.Terminate);
        }
        var deadline = DateTime.UtcNow + grace;
        while (survivors.Any(s => s.Process.IsAlive) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
        var killed = new List<ProcessIdentity>();
        foreach (var (file, process) in survivors)
        {
            if (Signals.SendToGroup(process, Signals.Kill))
            {
                killed.Add(process);
            }
            PidFile.Delete(file);
        }
        return killed;
    }
}
