namespace Foobar.Server.Admin;

/// <summary>What a server's admin <c>/healthz</c> answers, read by the control plane.</summary>
/// <param name="Server">Server name.</param>
/// <param name="Pid">Process id.</param>
/// <param name="StartedAt">When the process started serving.</param>
/// <param name="Ready">Every role is ready (a standby load balancer counts: it does all it should).</param>
/// <param name="Roles">Each role's state.</param>
public sealed record ServerHealthReport(string Server, int Pid, DateTimeOffset StartedAt, bool Ready, IReadOnlyList<RoleHealth> Roles);

/// <summary>One role's state.</summary>
/// <param name="Role">Role name (lb, web, ...).</param>
/// <param name="State">One of <see cref="RoleStates"/>.</param>
/// <param name="Detail">A line for people: what it listens on, what it forwards to.</param>
public sealed record RoleHealth(string Role, string State, string Detail);

/// <summary>Values of <see cref="RoleHealth.State"/>.</summary>
public static class RoleStates
{
    /// <summary>Serving.</summary>
    public const string Ready = "ready";

    /// <summary>A load balancer serving its own address, waiting to take the public address.</summary>
    public const string Standby = "standby";

    /// <summary>Getting ready (a database initializing or recovering).</summary>
    public const string Starting = "starting";
}
