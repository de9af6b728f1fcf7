using System.Net;
using System.Text.Json;
using Foobar.ControlPlane.Api;
using Foobar.ControlPlane.Status;

namespace Foobar.EndToEnd.Tests;

/// <summary>
/// The default topology (foobar.yaml) moved to an address range and state directory of its own,
/// brought up with the real <c>foobar up --detach</c> and taken down with <c>foobar down</c>.
/// Each test class gets one, so classes run side by side without sharing an address.
/// </summary>
public class RunningTopology : IAsyncLifetime, IAsyncDisposable
{
    private static int _ranges;

    /// <summary>The default topology without HTTPS: plain HTTP on the public address is served, not redirected.</summary>
    public RunningTopology()
        : this(https: false)
    {
    }

    /// <param name="https">Keep the default topology's HTTPS.</param>
    /// <param name="writeLimit">
    /// <c>app.write_limit</c>: off unless a test is about it, since tests write from one address far
    /// faster than a person does.
    /// </param>
    protected RunningTopology(bool https, string writeLimit = "off")
    {
        // Second octet from the pid, third from a counter: runs and classes never share a range.
        var range = $"127.{100 + Environment.ProcessId % 100}.{Interlocked.Increment(ref _ranges) * 7 % 250}.0/24";
        Directory = Path.Combine(Path.GetTempPath(), $"foobar-e2e-{Environment.ProcessId}-{_ranges}");
        System.IO.Directory.CreateDirectory(Directory);
        TopologyFile = Path.Combine(Directory, "foobar.yaml");
        StateDirectory = Path.Combine(Directory, "state");
        var yaml = File.ReadAllText(Path.Combine(RepositoryRoot, "foobar.yaml"))
            .Replace("range: 127.10.0.0/24", $"range: {range}", StringComparison.Ordinal)
            .Replace("root: site", $"root: {Path.Combine(RepositoryRoot, "site")}", StringComparison.Ordinal);
        yaml = System.Text.RegularExpressions.Regex.Replace(yaml, "write_limit: [^ ]+", $"write_limit: {writeLimit}");
        if (!https)
        {
            yaml = System.Text.RegularExpressions.Regex.Replace(yaml, @"^  (https|terminate):[^\n]*\n(  +#[^\n]*\n)?", "", System.Text.RegularExpressions.RegexOptions.Multiline);
        }
        File.WriteAllText(TopologyFile, yaml);
        PublicAddress = IPAddress.Parse(range[..range.LastIndexOf('.')] + ".1");
        Http = new HttpClient(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.Zero })
        {
            Timeout = TimeSpan.FromSeconds(10),
        };
    }

    /// <summary>The default topology as it is, HTTPS included.</summary>
    public static RunningTopology WithHttps() => new(https: true);

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public string Directory { get; }

    public string TopologyFile { get; }

    public string StateDirectory { get; }

    public IPAddress PublicAddress { get; }

    /// <summary>dns1's DNS endpoint (the range's second address, port 53).</summary>
    public IPEndPoint Dns => new(AddressOf("dns1"), 53);

    /// <summary>The address the default topology's plan gives <paramref name="server"/> (dns1 .2, lb1 .3 ... db2 .10).</summary>
    public IPAddress AddressOf(string server)
    {
        string[] order = ["dns1", "lb1", "lb2", "web1", "web2", "app1", "app2", "db1", "db2"];
        var prefix = PublicAddress.ToString()[..PublicAddress.ToString().LastIndexOf('.')];
        return IPAddress.Parse($"{prefix}.{Array.IndexOf(order, server) + 2}");
    }

    public HttpClient Http { get; }

    public FoobarCli.Result? UpResult { get; private set; }

    public virtual async Task InitializeAsync()
    {
        UpResult = await FoobarCli.RunAsync("up", "--detach", "-t", TopologyFile, "--state", StateDirectory);
        if (UpResult.ExitCode != 0)
        {
            throw new InvalidOperationException($"foobar up failed ({UpResult.ExitCode}):\n{UpResult.Output}");
        }
    }

    /// <summary>
    /// Stops whatever still runs and deletes the directory (state, logs, topology); fails the test
    /// class when a server died of an unhandled exception meanwhile (<see cref="Crashes"/>), which
    /// no test of it may cause.
    /// </summary>
    public virtual async Task DisposeAsync()
    {
        await FoobarCli.RunAsync("down", "--state", StateDirectory);
        Http.Dispose();
        var crashes = Crashes();
        System.IO.Directory.Delete(Directory, recursive: true);
        if (crashes.Length > 0)
        {
            throw new InvalidOperationException($"a server of {GetType().Name}'s topology died of an unhandled exception:\n{crashes}");
        }
    }

    async ValueTask IAsyncDisposable.DisposeAsync()
    {
        await DisposeAsync();
        GC.SuppressFinalize(this);
    }

    public Task<FoobarCli.Result> CliAsync(params string[] args) => FoobarCli.RunAsync([.. args, "--state", StateDirectory]);

    public async Task<StatusReport> StatusAsync()
    {
        var result = await CliAsync("status", "--json");
        Assert.True(result.ExitCode == 0, result.Output);
        return JsonSerializer.Deserialize<StatusReport>(result.Stdout, ControlJson.Options)!;
    }

    /// <summary>The status once every server is ready, for an <c>up</c> the test started itself (60 s at most; <paramref name="what"/> names it in the timeout).</summary>
    public async Task<StatusReport> WaitUntilReadyAsync(string what) =>
        (await Poll.UntilAsync(async () => (await CliAsync("status", "--json")).ExitCode == 0 ? await StatusAsync() : null,
            r => r is { Ready: true }, TimeSpan.FromSeconds(60), what))!;

    /// <summary>The database tier as <c>foobar db status --json</c> reports it.</summary>
    public async Task<Foobar.ControlPlane.Database.DbStatusReport> DbStatusAsync()
    {
        var result = await CliAsync("db", "status", "--json");
        Assert.True(result.ExitCode is 0 or 1, result.Output);
        return JsonSerializer.Deserialize<Foobar.ControlPlane.Database.DbStatusReport>(result.Stdout, ControlJson.Options)!;
    }

    /// <summary>GET through the public address, as a browser that resolved www.foobar.com would.</summary>
    public async Task<HttpResponseMessage> GetAsync(string path = "/")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{PublicAddress}{path}");
        request.Headers.Host = "www.foobar.com";
        try
        {
            return await Http.SendAsync(request);
        }
        catch (TaskCanceledException e) when (e.InnerException is TimeoutException)
        {
            // The topology's directory goes with the fixture: say now what the servers on the way saw.
            throw new TaskCanceledException($"GET {path} through {PublicAddress} timed out after {Http.Timeout.TotalSeconds:0} s.\n{LogTails("lb1", "lb2", "web1", "web2", "web1.access", "web2.access")}", e);
        }
    }

    /// <summary>The last lines of the named logs in the state directory (<c>logs/NAME.log</c>) and of the control plane's events, for a failure's message.</summary>
    public string LogTails(params string[] names) => Excerpts(names, "(last lines)", lines => lines.TakeLast(8));

    /// <summary>
    /// What <paramref name="pick"/> takes of each named log and of the control plane's events, each
    /// under a title line ("--- NAME <paramref name="heading"/>"); a log that cannot be read says why.
    /// </summary>
    private string Excerpts(string[] names, string heading, Func<IEnumerable<string>, IEnumerable<string>> pick)
    {
        var text = new System.Text.StringBuilder();
        foreach (var (title, path) in names.Select(n => (n, Path.Combine(StateDirectory, "logs", n + ".log"))).Append(("events", Path.Combine(StateDirectory, "events.log"))))
        {
            text.Append("--- ").Append(title).Append(' ').AppendLine(heading);
            try
            {
                foreach (var line in pick(File.ReadLines(path)))
                {
                    text.AppendLine(line);
                }
            }
            catch (IOException e)
            {
                text.AppendLine(e.Message);
            }
        }
        return text.ToString();
    }

    /// <summary>
    /// Every unhandled exception a server of this topology died of so far (the runtime writes it to
    /// the server's log before aborting), with the start of its stack: the supervisor restarts a
    /// crashed server within seconds, so a test that only counts failed requests may not see it.
    /// </summary>
    public string Crashes()
    {
        var text = new System.Text.StringBuilder();
        var logs = Path.Combine(StateDirectory, "logs");
        foreach (var log in System.IO.Directory.Exists(logs) ? System.IO.Directory.GetFiles(logs, "*.log").Order(StringComparer.Ordinal).ToArray() : [])
        {
            var lines = File.ReadAllLines(log);
            for (var i = 0; i < lines.Length; i++)
            {
                if (lines[i].StartsWith("Unhandled exception.", StringComparison.Ordinal))
                {
                    text.Append("--- ").AppendLine(Path.GetFileName(log));
                    foreach (var line in lines.Skip(i).Take(6))
                    {
                        text.AppendLine(line);
                    }
                }
            }
        }
        return text.ToString();
    }

    /// <summary>
    /// The lines of the named logs (and the control plane's events) stamped within
    /// <paramref name="window"/> of <paramref name="at"/> (local time, as the logs write it), at
    /// most <paramref name="most"/> per log: what the servers saw when a request failed mid-test.
    /// </summary>
    public string LogsAround(DateTime at, TimeSpan window, int most, params string[] names) =>
        Excerpts(names, "around " + at.ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture),
            lines => lines.Where(l => StampedNear(l, at, window)).Take(most).Select(l => l.Length > 300 ? l[..300] : l));

    /// <summary>Whether a log line starts with a time stamp (<c>yyyy-MM-dd HH:mm:ss.fff</c>) within the window.</summary>
    private static bool StampedNear(string line, DateTime at, TimeSpan window) =>
        line.Length >= 23
        && DateTime.TryParseExact(line.AsSpan(0, 23), "yyyy-MM-dd HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var stamp)
        && (stamp - at).Duration() <= window;

    /// <summary>The X-Served-By of one GET, split into server names; empty when the request failed.</summary>
    public async Task<string[]> PathOfAsync(string path = "/")
    {
        try
        {
            using var response = await GetAsync(path);
            return response.IsSuccessStatusCode ? ServedBy(response) : [];
        }
        catch (HttpRequestException)
        {
            return [];
        }
    }

    /// <summary>
    /// The X-Served-By of one GET that must succeed; when it does not, the failure says what came
    /// back (status or exception) and what the servers on the way logged last.
    /// </summary>
    public async Task<string[]> ServedPathAsync(string path = "/")
    {
        string failure;
        try
        {
            using var response = await GetAsync(path);
            var servedBy = ServedBy(response);
            if (response.IsSuccessStatusCode && servedBy.Length > 0)
            {
                return servedBy;
            }
            failure = $"{(int)response.StatusCode} {response.ReasonPhrase}, X-Served-By: {string.Join(", ", servedBy)}";
        }
        catch (HttpRequestException e)
        {
            failure = e.ToString();
        }
        Assert.Fail($"GET {path} through {PublicAddress} failed: {failure}\n{LogTails("lb1", "lb2", "web1", "web2", "app1", "app2", "web1.access", "web2.access")}");
        return [];
    }

    /// <summary>The servers a response's X-Served-By names, in order; empty without one.</summary>
    private static string[] ServedBy(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Served-By", out var values) ? string.Join(",", values).Split(',', StringSplitOptions.TrimEntries) : [];

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Foobar.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("repository root (Foobar.slnx) not found above " + AppContext.BaseDirectory);
    }
}
