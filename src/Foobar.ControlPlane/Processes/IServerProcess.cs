using Foobar.Server.Processes;

namespace Foobar.ControlPlane.Processes;

/// <summary>A started server process.</summary>
internal interface IServerProcess
{
    ProcessIdentity Identity { get; }

    /// <summary>Completes with the exit code when the process has exited and been reaped.</summary>
    Task<int> Exited { get; }

    /// <summary>Signals the process and its group (children such as mariadbd).</summary>
    void Signal(int signal);
}

/// <summary>Starts server processes.</summary>
internal interface IServerLauncher
{
    IServerProcess Start(string serverName);
}
