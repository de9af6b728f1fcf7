using System.Diagnostics;
using Foobar.ControlPlane.State;
using Foobar.Server.Processes;

namespace Foobar.ControlPlane.Processes;

/// <summary>Starts <c>foobar serve NAME --state DIR</c> as a detached child and records its pid file.</summary>
internal sealed class ServerProcessLauncher(StateDirectory state) : IServerLauncher
{
    private readonly IReadOnlyList<string> _foobar = FoobarExecutable.Command();

    public IServerProcess Start(string serverName)
    {
        var process = DetachedProcess.Start([.. _foobar, "serve", serverName, "--state", state.Root], state.LogFile(serverName));
        // Read /proc now: the process cannot have been reaped yet, since only we wait for it.
        var identity = ProcessIdentity.Of(process.Id) ?? new ProcessIdentity(process.Id, 0);
        PidFile.Write(state.PidFile(serverName), identity);
        return new ServerProcess(process, identity, state.PidFile(serverName));
    }

    private sealed class ServerProcess : IServerProcess
    {
        public ServerProcess(Process process, ProcessIdentity identity, string pidFile)
        {
            Identity = identity;
            Exited = WaitAsync(process, pidFile);
        }

        public ProcessIdentity Identity { get; }

        public Task<int> Exited { get; }

        public void Signal(int signal) => Signals.SendToGroup(Identity, signal);

        private static async Task<int> WaitAsync(Process process, string pidFile)
        {
            using (process)
            {
                await process.WaitForExitAsync().ConfigureAwait(false);
                PidFile.Delete(pidFile);
                return process.ExitCode;
            }
        }
    }
}
