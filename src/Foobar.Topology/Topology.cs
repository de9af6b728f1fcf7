using System.Net;

namespace Foobar.Topology;

/// <summary>One infrastructure: the domain, the address plan, the servers and each tier's settings.</summary>
public sealed record Topology
{
    /// <summary>The domain; the site is www.&lt;domain&gt;. Default <c>foobar.com</c>.</summary>
    public string Domain { get; init; } = "foobar.com";

    /// <summary>Addresses the servers and the public address are taken from.</summary>
    public required AddressRange Range { get; init; }

    /// <summary>Where the site answers.</summary>
    public required PublicEndpoint Public { get; init; }

    /// <summary>Every server, in the order of the file.</summary>
    public required IReadOnlyList<ServerSpec> Servers { get; init; }

    /// <summary>Load balancer settings.</summary>
    public LbSettings Lb { get; init; } = new();

    /// <summary>Web server settings.</summary>
    public WebSettings Web { get; init; } = new();

    /// <summary>Application server settings.</summary>
    public AppSettings App { get; init; } = new();

    /// <summary>Database settings.</summary>
    public DbSettings Db { get; init; } = new();

    /// <summary>DNS settings.</summary>
    public DnsSettings Dns { get; init; } = new();

    /// <summary>Administrative listener settings.</summary>
    public AdminSettings Admin { get; init; } = new();

    /// <summary>Directory relative paths in the file are resolved against (the file's directory).</summary>
    public string BaseDirectory { get; init; } = ".";

    /// <summary>The site's host name.</summary>
    public string SiteHost => "www." + Domain;

    /// <summary>Servers that have <paramref name="role"/>, in file order.</summary>
    public IReadOnlyList<ServerSpec> ServersWith(Role role) => Servers.Where(s => s.Has(role)).ToList();

    /// <summary>The server named <paramref name="name"/>, or null.</summary>
    public ServerSpec? Find(string name) => Servers.FirstOrDefault(s => s.Name == name);

    /// <summary>
    /// The event loops <paramref name="server"/>'s process runs: the most that its load balancer
    /// or web role asks for (<c>lb.workers</c>, <c>web.workers</c>); null when neither says, for
    /// one per processor.
    /// </summary>
    public int? WorkersOf(ServerSpec server)
    {
        var lb = server.Has(Role.Lb) ? Lb.Workers : null;
        var web = server.Has(Role.Web) ? Web.Workers : null;
        return lb is null ? web : web is null ? lb : Math.Max(lb.Value, web.Value);
    }

    /// <summary>The db server marked primary, or the only db server; null when there is none.</summary>
    public ServerSpec? DbPrimary
    {
        get
        {
            var db = ServersWith(Role.Db);
            return db.FirstOrDefault(s => s.Db == DbRole.Primary) ?? (db.Count == 1 && db[0].Db is null ? db[0] : null);
        }
    }

    /// <summary>The port <paramref name="role"/> listens on.</summary>
    public int PortOf(Role role) => role switch
    {
        Role.Dns => Dns.Port,
        Role.Lb => Lb.Port,
        Role.Web => Web.Port,
        Role.App => App.Port,
        Role.Db => Db.Port,
        _ => throw new ArgumentOutOfRangeException(nameof(role)),
    };

    /// <summary>The address the control plane connects from (the range's last host).</summary>
    public IPAddress ControlAddress => AddressPlan.ControlAddress(Range);

    /// <summary>The admin endpoint of <paramref name="server"/>.</summary>
    public IPEndPoint AdminEndPoint(ServerSpec server) => new(server.Address, Admin.Port);

    /// <summary>The static site root as an absolute path.</summary>
    public string WebRootPath => Path.GetFullPath(Path.Combine(BaseDirectory, Web.Root));
}
