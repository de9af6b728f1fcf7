namespace Foobar.Server;

/// <summary>Where a server keeps what it owns on disk, under the infrastructure's state directory.</summary>
/// <param name="StateRoot">The state directory (absolute).</param>
public sealed record ServerPaths(string StateRoot)
{
    /// <summary>The generated database passwords (mode 0600), shared by the db servers, the app servers and the control plane.</summary>
    public string DbCredentialsFile => Path.Combine(StateRoot, "secrets", "db.json");

    /// <summary>The orchestrator's record of which db server is the primary.</summary>
    public string ClusterStateFile => Path.Combine(StateRoot, "db", "cluster.json");

    /// <summary>The local certificate authority and the site certificate it issued (<c>LocalCertificateAuthority</c>).</summary>
    public string TlsDirectory => Path.Combine(StateRoot, "tls");

    /// <summary>The access log of web server <paramref name="name"/>.</summary>
    public string AccessLogFile(string name) => Path.Combine(StateRoot, "logs", $"{name}.access.log");

    /// <summary>
    /// The pid file of app server <paramref name="name"/>'s own application (<c>app.command</c>), in
    /// the control plane's pid directory, so <c>foobar down</c> stops it with the servers.
    /// </summary>
    public string ChildPidFile(string name) => Path.Combine(StateRoot, "pids", $"{name}.app.pid");

    /// <summary>Everything of db server <paramref name="name"/>: data, logs, socket, its account script.</summary>
    public string DbDirectory(string name) => Path.Combine(StateRoot, "db", name);
}
