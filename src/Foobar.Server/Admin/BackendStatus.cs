namespace Foobar.Server.Admin;

/// <summary>
/// One server of the tier behind as a front server sees it: a web server on a load balancer
/// (<c>GET /lb/servers</c>), an app server on a web server (<c>GET /web/servers</c>).
/// </summary>
/// <param name="Name">Server name.</param>
/// <param name="State">up or down (health).</param>
/// <param name="Draining">Set by <c>foobar lb drain</c>/<c>foobar web drain</c>, or while the control plane takes it out of rotation: no new requests.</param>
/// <param name="Weight">Share of the requests.</param>
/// <param name="Backup">Used only when no other server is up.</param>
/// <param name="Active">Requests in flight.</param>
/// <param name="Requests">Requests forwarded since start.</param>
/// <param name="Failures">Forwards that got no response.</param>
/// <param name="Checked">Whether the last health check passed; null before the first.</param>
/// <param name="CheckedAt">When the last health check was made; null before the first.</param>
public sealed record BackendStatus(string Name, string State, bool Draining, int Weight, bool Backup, long Active, long Requests, long Failures,
    bool? Checked = null, DateTimeOffset? CheckedAt = null);
