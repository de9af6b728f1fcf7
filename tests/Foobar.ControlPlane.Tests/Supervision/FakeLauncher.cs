using Foobar.ControlPlane.Processes;
using Foobar.Server.Processes;

namespace Foobar.ControlPlane.Tests.Supervision;

/// <summary>Processes that exit when a test says so, or on SIGKILL (and on SIGTERM unless told to ignore it).</summary>
internal sealed class FakeLauncher : IServerLauncher
{
    private readonly List<FakeProcess> _started = [];
    private int _nextPid = 1000;

    public bool IgnoreTerminate { get; set; }

    public IReadOnlyList<FakeProcess> Started
    {
        get
        {
            lock (_started)
            {
                return [.. _started];
            }
        }
    }

    public IServerProcess Start(string serverName)
    {
        var process = new FakeProcess(new ProcessIdentity(Interlocked.Increment(ref _nextPid), 1), this);
        lock (_started)
        {
            _started.Add(process);
        }
        return process;
    }

    internal sealed class FakeProcess(ProcessIdentity identity, FakeLauncher launcher) : IServerProcess
    {
        private readonly TaskCompletionSource<int> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ProcessIdentity Identity { get; } = identity;

        public Task<int> Exited => _exit.Task;

        public List<int> Signals { get; } = [];

        public void Crash(int code = 1) => _exit.TrySetResult(code);

        public void Signal(int signal)
        {
            lock (Signals)
            {
                Signals.Add(signal);
            }
            if (signal == global::Foobar.Server.Processes.Signals.Kill)
            {
                _exit.TrySetResult(137);
            }
            else if (signal == global::Foobar.Server.Processes.Signals.Terminate && !launcher.IgnoreTerminate)
            {
                _exit.TrySetResult(0);
            }
        }
    }
}
