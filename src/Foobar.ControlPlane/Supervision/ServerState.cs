namespace Foobar.ControlPlane.Supervision;

/// <summary>Where a supervised server is in its life.</summary>
public enum ServerState
{
    /// <summary>Not running, and not meant to be (before start, after stop or down).</summary>
    Stopped,
    /// <summary>Process started; its health check has not passed yet.</summary>
    Starting,
    /// <summary>Process running and its health check passed at least once.</summary>
    Running,
    /// <summary>Crashed; waiting for the restart delay.</summary>
    Backoff,
    /// <summary>Asked to stop; waiting for it to exit.</summary>
    Stopping,
    /// <summary>Killed with SIGKILL on request; stays down until started.</summary>
    Killed,
}
