using System.Net;

namespace Foobar.Db;

/// <summary>How to run one MariaDB server.</summary>
public sealed record MariaDbOptions
{
    /// <summary>Directory the instance owns: <c>data/</c>, <c>tmp/</c>, the socket, logs.</summary>
    public required string Directory { get; init; }

    /// <summary>The only address mariadbd binds.</summary>
    public required IPAddress Address { get; init; }

    /// <summary>TCP port. Default 3306.</summary>
    public int Port { get; init; } = 3306;

    /// <summary>Replication server id, unique in the cluster.</summary>
    public required int ServerId { get; init; }

    /// <summary>More mariadbd options (replication, TLS, read_only).</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];

    /// <summary>The server binary. Default <c>mariadbd</c> from PATH (Debian's mariadb-server).</summary>
    public string ServerProgram { get; init; } = "mariadbd";

    /// <summary>The initializer. Default <c>mariadb-install-db</c>.</summary>
    public string InstallProgram { get; init; } = "mariadb-install-db";

    /// <summary>How long a start may take. Default 60 s: crash recovery of a large InnoDB log takes a while.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public string DataDirectory => Path.Combine(Directory, "data");

    public string TempDirectory => Path.Combine(Directory, "tmp");

    public string SocketPath => Path.Combine(Directory, "mysqld.sock");

    public string ErrorLog => Path.Combine(Directory, "error.log");

    public string PidFile => Path.Combine(Directory, "mariadbd.pid");
}
