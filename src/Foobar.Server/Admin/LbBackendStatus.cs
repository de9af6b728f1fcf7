namespace Foobar.Server.Admin;

/// <summary>One web server as a load balancer sees it (<c>GET /lb/servers</c> on the admin listener).</summary>
/// <param name="Name">Server name.</param>
/// <param name="State">up or down (health).</param>
/// <param name="Draining">Set by <c>foobar lb drain</c>: no new requests.</param>
/// <param name="Weight">Share of the requests.</param>
/// <param name="Backup">Used only when no other server is up.</param>
/// <param name="Active">Requests in flight.</param>
/// <param name="Requests">Requests forwarded since start.</param>
/// <param name="Failures">Forwards that got no response.</param>
public sealed record LbBackendStatus(string Name, string State, bool Draining, int Weight, bool Backup, long Active, long Requests, long Failures);
