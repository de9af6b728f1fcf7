// Failover under load: writers sign the guestbook through the public address as fast as they can;
// each round `foobar kill`s the primary, times the gap until the first write acknowledged by the
// new primary, then starts the old one again and waits until it is a replica. At the end every
// acknowledged entry is read back: a missing one is a lost write.
// Usage: Foobar.Failover.Bench FOOBAR STATE_DIR PUBLIC_ADDRESS ROUNDS
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

if (args.Length != 4)
{
    Console.Error.WriteLine("usage: Foobar.Failover.Bench FOOBAR STATE_DIR PUBLIC_ADDRESS ROUNDS");
    return 2;
}
var (foobar, state, address, rounds) = (args[0], args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture));
using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, UseCookies = false, MaxConnectionsPerServer = 64 }) { Timeout = TimeSpan.FromSeconds(30) };
var acknowledged = new ConcurrentQueue<(long Id, string Db, long At)>();
var failed = 0L;
using var stop = new CancellationTokenSource();

await WaitAsync(Protected, "replication up with semi-sync");
await WaitForWriteAsync();
var writers = Enumerable.Range(0, 4).Select(w => Task.Run(() => WriteLoopAsync(w))).ToList();

var gaps = new List<double>();
Console.WriteLine($"{"round",-6} {"killed",-7} {"promoted",-9} {"kill→first write on new primary",32}");
for (var round = 1; round <= rounds; round++)
{
    var before = await StatusAsync();
    var old = before.Primary;
    Run("kill", old);
    var killedAt = Stopwatch.GetTimestamp();
    var first = await FirstAsync(a => a.At > killedAt && a.Db != old);
    var gap = Stopwatch.GetElapsedTime(killedAt, first.At).TotalSeconds;
    gaps.Add(gap);
    Console.WriteLine($"{round,-6} {old,-7} {first.Db,-9} {gap,31:0.000}s");
    Run("start", old);
    await WaitAsync(Protected, $"{old} back as a replica, semi-sync on");
}
await stop.CancelAsync();
await Task.WhenAll(writers);

var lost = 0;
foreach (var (id, _, _) in acknowledged)
{
    using var response = await SendAsync(HttpMethod.Get, $"/api/entries/{id}", null);
    lost += response.StatusCode == HttpStatusCode.OK ? 0 : 1;
}
gaps.Sort();
Console.WriteLine($"failovers: {gaps.Count}; kill → first acknowledged write on the new primary: median {gaps[gaps.Count / 2]:0.000} s, max {gaps[^1]:0.000} s");
Console.WriteLine($"writes acknowledged: {acknowledged.Count}; refused or failed (not acknowledged): {failed}; acknowledged writes lost: {lost}");
return lost == 0 ? 0 : 1;

async Task WriteLoopAsync(int writer)
{
    for (var i = 0; !stop.IsCancellationRequested; i++)
    {
        try
        {
            using var response = await SendAsync(HttpMethod.Post, "/api/entries", JsonSerializer.Serialize(new { name = $"writer {writer}", message = $"write {i}" }));
            if (response.StatusCode == HttpStatusCode.Created)
            {
                var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();
                var db = string.Join(",", response.Headers.GetValues("X-Served-By")).Split(',', StringSplitOptions.TrimEntries)[^1];
                acknowledged.Enqueue((id, db, Stopwatch.GetTimestamp()));
                continue;
            }
        }
        catch (HttpRequestException)
        {
        }
        Interlocked.Increment(ref failed);
    }
}

async Task WaitForWriteAsync()
{
    var clock = Stopwatch.StartNew();
    while (true)
    {
        using var response = await SendAsync(HttpMethod.Post, "/api/entries", """{"name":"bench","message":"ready?"}""");
        if (response.StatusCode == HttpStatusCode.Created)
        {
            return;
        }
        if (clock.Elapsed > TimeSpan.FromSeconds(60))
        {
            throw new TimeoutException("the guestbook takes no writes");
        }
        await Task.Delay(100);
    }
}

async Task<(long Id, string Db, long At)> FirstAsync(Func<(long Id, string Db, long At), bool> match)
{
    var clock = Stopwatch.StartNew();
    while (clock.Elapsed < TimeSpan.FromSeconds(60))
    {
        var hit = acknowledged.Where(match).OrderBy(a => a.At).FirstOrDefault();
        if (hit.At != 0)
        {
            return hit;
        }
        await Task.Delay(5);
    }
    throw new TimeoutException("no write acknowledged by a new primary within 60 s");
}

async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? body)
{
    using var request = new HttpRequestMessage(method, $"http://{address}{path}");
    request.Headers.Host = "www.foobar.com";
    if (body is not null)
    {
        request.Content = new StringContent(body, Encoding.UTF8, "application/json");
    }
    return await http.SendAsync(request);
}

void Run(params string[] arguments)
{
    var start = new ProcessStartInfo(foobar) { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var argument in arguments.Append("--state").Append(state))
    {
        start.ArgumentList.Add(argument);
    }
    using var process = Process.Start(start)!;
    process.StandardOutput.ReadToEnd();
    process.WaitForExit();
    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException($"foobar {string.Join(' ', arguments)} failed: {process.StandardError.ReadToEnd()}");
    }
}

async Task<DbStatus> StatusAsync()
{
    var start = new ProcessStartInfo(foobar) { RedirectStandardOutput = true };
    foreach (var argument in new[] { "db", "status", "--json", "--state", state })
    {
        start.ArgumentList.Add(argument);
    }
    using var process = Process.Start(start)!;
    var json = await process.StandardOutput.ReadToEndAsync();
    await process.WaitForExitAsync();
    return JsonSerializer.Deserialize<DbStatus>(json, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
}

async Task WaitAsync(Func<DbStatus, bool> done, string what)
{
    var clock = Stopwatch.StartNew();
    while (!done(await StatusAsync()))
    {
        if (clock.Elapsed > TimeSpan.FromSeconds(90))
        {
            throw new TimeoutException($"{what} did not happen within 90 s");
        }
        await Task.Delay(200);
    }
}

// Every replica streams and the primary's commits wait for one: a failover now loses nothing.
static bool Protected(DbStatus s) =>
    s.Servers.All(x => x.Role is "primary" ? x.SemiSync?.StartsWith("on,", StringComparison.Ordinal) == true : x.Replication == "IO Yes, SQL Yes");

internal sealed record DbStatus(string Primary, List<DbServer> Servers);

internal sealed record DbServer(string Name, string Role, string? Replication, string? SemiSync);
