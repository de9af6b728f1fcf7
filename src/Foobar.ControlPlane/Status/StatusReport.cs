using Foobar.ControlPlane.Supervision;
using Foobar.Server.Admin;

namespace Foobar.ControlPlane.Status;

/// <summary>What <c>foobar status --json</c> prints: the whole infrastructure at one moment.</summary>
/// <param name="Domain">The domain (foobar.com).</param>
/// <param name="StateDirectory">Absolute path of the state directory.</param>
/// <param name="ControlPlanePid">Process id of the control plane.</param>
/// <param name="Public">Where the site answers, for scripts and people.</param>
/// <param name="Servers">Every server in topology order.</param>
/// <param name="Events">Recent supervision events, oldest first.</param>
public sealed record StatusReport(
    string Domain,
    string StateDirectory,
    int ControlPlanePid,
    PublicStatus Public,
    IReadOnlyList<ServerStatus> Servers,
    IReadOnlyList<SupervisionEvent> Events)
{
    /// <summary>Every server is running and ready, and a load balancer holds the public address.</summary>
    public bool Ready => Servers.All(s => s.Ready) && Public.HeldBy is not null;
}

/// <summary>The public endpoint.</summary>
/// <param name="Host">www.&lt;domain&gt;.</param>
/// <param name="Address">The public address.</param>
/// <param name="HttpPort">Its HTTP port.</param>
/// <param name="Url">The site's URL.</param>
/// <param name="DirectUrl">The same by address, for clients that cannot resolve the host.</param>
/// <param name="Curl">A curl command that reaches the site without DNS.</param>
/// <param name="HeldBy">The load balancer holding the address, or null when none does.</param>
/// <param name="Authority">The local certificate authority's certificate (ca.crt) clients must trust for HTTPS; null without HTTPS or with the topology's own certificate.</param>
public sealed record PublicStatus(string Host, string Address, int HttpPort, string Url, string DirectUrl, string Curl, string? HeldBy, string? Authority = null);

/// <summary>One server.</summary>
/// <param name="Name">Server name.</param>
/// <param name="Roles">Its roles.</param>
/// <param name="Address">Its address.</param>
/// <param name="State">Supervision state, lower case (running, starting, backoff, stopped, killed, stopping).</param>
/// <param name="Pid">Process id while it runs.</param>
/// <param name="UptimeSeconds">Seconds since the current process started.</param>
/// <param name="Restarts">Restarts after crashes.</param>
/// <param name="Ready">Running and its last health check passed.</param>
/// <param name="RoleHealth">Each role's state from the server itself.</param>
/// <param name="LastEvent">The last supervision event, for people.</param>
public sealed record ServerStatus(
    string Name,
    IReadOnlyList<string> Roles,
    string Address,
    string State,
    int? Pid,
    double? UptimeSeconds,
    int Restarts,
    bool Ready,
    IReadOnlyList<RoleHealth> RoleHealth,
    string? LastEvent);
