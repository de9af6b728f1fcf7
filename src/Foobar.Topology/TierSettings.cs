namespace Foobar.Topology;

/// <summary>How the load balancers share the public address.</summary>
public enum LbMode
{
    /// <summary>One load balancer holds the public address, the other takes it over when it dies.</summary>
    ActivePassive,
    /// <summary>Both serve; DNS returns both addresses.</summary>
    ActiveActive,
}

/// <summary>How a load balancer picks the web server for a request (HAProxy's <c>balance</c>).</summary>
public enum BalanceAlgorithm
{
    /// <summary>In turn, by weight (<c>roundrobin</c>).</summary>
    RoundRobin,
    /// <summary>Fewest requests in flight for the weight (<c>leastconn</c>).</summary>
    LeastConnections,
    /// <summary>The less busy of two drawn at random by weight (<c>random</c>).</summary>
    Random,
    /// <summary>By a hash of the client's address: a client sticks to a server (<c>source</c>).</summary>
    Source,
    /// <summary>By a hash of the URL path: a path sticks to a server, for its caches (<c>uri</c>).</summary>
    Uri,
}

/// <summary>Settings of the <see cref="Role.Lb"/> tier.</summary>
public sealed record LbSettings
{
    /// <summary>Port on the load balancers' own addresses. Default 80, the public HTTP port.</summary>
    public int Port { get; init; } = 80;

    /// <summary>How the pair shares the public address. Default active-passive, as in seed 004.</summary>
    public LbMode Mode { get; init; } = LbMode.ActivePassive;

    /// <summary>How the web server for a request is picked. Default round robin, as in the seeds.</summary>
    public BalanceAlgorithm Balance { get; init; } = BalanceAlgorithm.RoundRobin;

    /// <summary>Path checked on each web server. Default <c>/healthz</c>.</summary>
    public string CheckPath { get; init; } = "/healthz";

    /// <summary>Time between active checks. Default 1 s: a dead server leaves rotation within a second.</summary>
    public TimeSpan CheckInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Time between checks of a server changing state. Default 250 ms.</summary>
    public TimeSpan CheckFastInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>A check not answered within this fails. Default 1 s.</summary>
    public TimeSpan CheckTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Passed checks in a row that bring a down server up. Default 2.</summary>
    public int CheckRise { get; init; } = 2;

    /// <summary>Failed checks in a row that take an up server down. Default 2.</summary>
    public int CheckFall { get; init; } = 2;

    /// <summary>Statuses a check must answer; empty: any 2xx or 3xx. Default empty.</summary>
    public IReadOnlyList<int> CheckStatus { get; init; } = [];

    /// <summary>
    /// Time over which a web server that comes back up grows from almost no share of the requests
    /// to its full weight (HAProxy's <c>slowstart</c>). Default zero: off.
    /// </summary>
    public TimeSpan SlowStart { get; init; } = TimeSpan.Zero;

    /// <summary>Requests that may wait while every web server is at its <see cref="ServerSpec.MaxConn"/>; more get 503. Default 1024.</summary>
    public int MaxQueue { get; init; } = 1024;

    /// <summary>How long a request may wait for a web server below its limit before it gets 503 (HAProxy's <c>timeout queue</c>). Default 5 s.</summary>
    public TimeSpan QueueTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Time to open a connection to a web server (HAProxy's <c>timeout connect</c>). Default 2 s.</summary>
    public TimeSpan TimeoutConnect { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Time a web server may take to start its response; then the client gets 504 (HAProxy's <c>timeout server</c>). Default 60 s.</summary>
    public TimeSpan TimeoutServer { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Time an idle client connection is kept open between requests (HAProxy's <c>timeout client</c>). Default 50 s.</summary>
    public TimeSpan TimeoutClient { get; init; } = TimeSpan.FromSeconds(50);

    /// <summary>
    /// How long the load balancer holding the public address may miss the standby's heartbeats
    /// (one every 100 ms) before the standby fences it and takes the address over. Default 500 ms;
    /// a holder that dies is replaced at once, this is for one that hangs.
    /// </summary>
    public TimeSpan TakeoverAfter { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Largest request body in bytes; larger ones get 413 and never reach a web server. Default 30 MB, Kestrel's.</summary>
    public long MaxBody { get; init; } = 30_000_000;

    /// <summary>
    /// Event loops (threads serving connections) in each load balancer process, as HAProxy's
    /// <c>nbthread</c>. Default null: one per processor.
    /// </summary>
    public int? Workers { get; init; }
}

/// <summary>Settings of the <see cref="Role.Web"/> tier.</summary>
public sealed record WebSettings
{
    /// <summary>Port on the web servers' addresses. Default 80.</summary>
    public int Port { get; init; } = 80;

    /// <summary>Directory of static files, relative to the topology file. Default <c>site</c>.</summary>
    public string Root { get; init; } = "site";

    /// <summary>
    /// Path prefixes always forwarded to the app servers. Any other path is served from
    /// <see cref="Root"/> when a file matches, and forwarded otherwise. Default <c>/api/</c>.
    /// </summary>
    public IReadOnlyList<string> Proxy { get; init; } = ["/api/"];

    /// <summary>Path checked on each app server. Default <c>/healthz</c>.</summary>
    public string CheckPath { get; init; } = "/healthz";

    /// <summary>Time between active checks of the app servers. Default 1 s.</summary>
    public TimeSpan CheckInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Each web server's access log, <c>logs/NAME.access.log</c> in the state directory. Default
    /// <see cref="WebAccessLog.Combined"/>, as nginx's.
    /// </summary>
    public WebAccessLog AccessLog { get; init; } = WebAccessLog.Combined;

    /// <summary>
    /// Path prefixes that hold only files (<c>/assets/</c>): a GET or HEAD that names no file gets
    /// 404 (the site's <c>404.html</c> when there is one) instead of going to the app servers, and
    /// other methods get 405. Default none.
    /// </summary>
    public IReadOnlyList<string> Static { get; init; } = [];

    /// <summary>
    /// The Cache-Control value for static files by path pattern, in file order, the first match
    /// winning: a prefix (<c>/assets/</c>) or a suffix (<c>*.html</c>). Default none.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> CacheControl { get; init; } = [];

    /// <summary>
    /// Whether the web servers speak only TLS on <see cref="Port"/>, with the site certificate: the
    /// load balancers then connect and check over https, trusting the local certificate
    /// authority, so the hop behind them is encrypted too. Required when TLS ends at the web
    /// servers (<see cref="TlsTermination.Web"/>). Default false.
    /// </summary>
    public bool Tls { get; init; }

    /// <summary>
    /// Event loops (threads serving connections) in each web server process, as nginx's
    /// <c>worker_processes</c>: fewer than the processors when several servers share a machine.
    /// Default null: one per processor.
    /// </summary>
    public int? Workers { get; init; }
}

/// <summary>The web servers' access log (<c>web.access_log</c>).</summary>
public enum WebAccessLog
{
    /// <summary><c>off</c>: none.</summary>
    Off,

    /// <summary><c>combined</c>: nginx's combined format, then the request time and the upstream servers.</summary>
    Combined,

    /// <summary><c>json</c>: one JSON object per line.</summary>
    Json,
}

/// <summary>Settings of the <see cref="Role.App"/> tier.</summary>
public sealed record AppSettings
{
    /// <summary>Port on the app servers' addresses. Default 8080, so web and app can share a server.</summary>
    public int Port { get; init; } = 8080;

    /// <summary>
    /// Whether the app servers speak only TLS on <see cref="Port"/>: the web servers then connect
    /// and check over https, trusting the local certificate authority. Default false.
    /// </summary>
    public bool Tls { get; init; }

    /// <summary>
    /// Your own application instead of the built-in one: a shell command each app server runs as
    /// its child, in the topology file's directory, which must serve HTTP on the server's address
    /// and <see cref="Port"/> (given in <c>FOOBAR_APP_ADDRESS</c>, <c>PORT</c> and the other
    /// <c>FOOBAR_*</c> variables, docs/app.md). Null: the built-in foobar.com application.
    /// </summary>
    public string? Command { get; init; }

    /// <summary>
    /// With <see cref="Command"/>: the port on each app server's own address that leads to the db
    /// primary of the moment (<c>FOOBAR_DB_PRIMARY</c>), so your application's writes follow a
    /// failover without being told. Default 3307.
    /// </summary>
    public int DbPrimaryPort { get; init; } = 3307;

    /// <summary>
    /// How many guestbook entries one client may write (<c>app.write_limit</c>: <c>20/min</c>,
    /// <c>off</c>): the built-in application answers 429 with <c>Retry-After</c> beyond it. The
    /// client is the real one, from <c>X-Forwarded-For</c> as far as the site's own load balancers
    /// and web servers wrote it. Null: no limit. Default 20 a minute.
    /// </summary>
    public RateLimit? WriteLimit { get; init; } = new RateLimit(20, TimeSpan.FromMinutes(1));
}

/// <summary>Settings of the <see cref="Role.Db"/> tier.</summary>
public sealed record DbSettings
{
    /// <summary>MariaDB port. Default 3306, MySQL's.</summary>
    public int Port { get; init; } = 3306;

    /// <summary>
    /// How long the primary waits for a replica to acknowledge a commit (semi-synchronous
    /// replication) before it acknowledges the commit anyway. Default 5 s. While the primary runs
    /// without acknowledgements the orchestrator will not fail over automatically: a replica could
    /// miss acknowledged writes.
    /// </summary>
    public TimeSpan SemiSyncTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Replicas further behind than this serve no reads. Default 5 s.</summary>
    public TimeSpan MaxReplicaLag { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>After an automatic failover, how long another one is refused (an alert instead). Default 1 min.</summary>
    public TimeSpan FailoverBlock { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Free space a db server's data directory should keep, in bytes; below it the orchestrator
    /// raises an alert. Default 1 GB. MariaDB does not fail a write on a full disk: it stalls it
    /// until space is freed, and InnoDB may abort; the alert comes before that.
    /// </summary>
    public long DiskReserve { get; init; } = 1L << 30;
}

/// <summary>Settings of the <see cref="Role.Dns"/> tier.</summary>
public sealed record DnsSettings
{
    /// <summary>UDP and TCP port. Default 53.</summary>
    public int Port { get; init; } = 53;
}

/// <summary>The administrative listener every server has: health, status, later metrics.</summary>
public sealed record AdminSettings
{
    /// <summary>Port on every server's address. Default 9000.</summary>
    public int Port { get; init; } = 9000;
}
