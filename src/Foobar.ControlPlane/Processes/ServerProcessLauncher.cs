using System.Diagnostics;
using Foobar.ControlPlane.State;
using Foobar.Server.Processes;

namespace Foobar.ControlPlane.Processes;

/// <summary>Starts <c>foobar serve NAME --state DIR</c> as a detached child and records its pid file.</summary>
internal sealed class ServerProcessLauncher(StateDirectory state) : IServerLauncher
{
    /// <summary>
    /// The runtime settings every server starts with. A gen0 budget of 4 MB: big enough that a
    /// load balancer at 30,000 requests/s collects a few times a second, small enough that the
    /// memory it allocates from stays in the cache. 64 MB (chosen when a forwarded request
    /// allocated kilobytes) cost the web and app servers 3–5 % more CPU per request in the chain
    /// (a web and an app server of each budget side by side in one `foobar up`), and made no
    /// difference to the load balancer (docs/load-balancer.md). The runtime reads this setting
    /// from the environment only.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> RuntimeSettings = new Dictionary<string, string>
    {
        ["DOTNET_GCgen0size"] = "0x400000",
    };

    private readonly IReadOnlyList<string> _foobar = FoobarExecutable.Command();

    public IServerProcess Start(string serverName)
    {
        var process = DetachedProcess.Start([.. _foobar, "serve", serverName, "--state", state.Root], state.LogFile(serverName), RuntimeSettings);
        // Read /proc now: the process cannot have been reaped yet, since only we wait for it.
        var identity = ProcessIdentity.Of(process.Id) ?? new ProcessIdentity(process.Id, 0);
        PidFile.Write(state.PidFile(serverName), identity);
        return new ServerProcess(process, identity, state.PidFile(serverName), () => state.ChildPidFiles(serverName));
    }

    private sealed class ServerProcess : IServerProcess
    {
        private readonly Func<IEnumerable<string>> _childPidFiles;

        public ServerProcess(Process process, ProcessIdentity identity, string pidFile, Func<IEnumerable<string>> childPidFiles)
        {
            Identity = identity;
            _childPidFiles = childPidFiles;
            Exited = WaitAsync(process, pidFile);
        }

        public ProcessIdentity Identity { get; }

        public Task<int> Exited { get; }

        /// <summary>The server's process group, and the groups of children it runs in groups of their own (an app server's application).</summary>
        public void Signal(int signal)
        {
            Signals.SendToGroup(Identity, signal);
            foreach (var file in _childPidFiles())
            {
                if (PidFile.Read(file) is { } child)
                {
                    Signals.SendToGroup(child, signal);
                }
            }
        }

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
