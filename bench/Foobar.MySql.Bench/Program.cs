// The same work as `mariadb-slap --concurrency=C --number-of-queries=N --query=Q`: C clients share N
// queries, each client on its own connection, every row of every result read. The clients first warm
// up untimed for WARMUP_SECONDS (default 3): slap is compiled C, and the runtime's tiered compilation
// runs instrumented code for a while before the optimized code it settles on. Then all start
// together and the clock runs until the last finishes. Prints "QUERIES_PER_SECOND rows=ROWS cpu_us=C
// user_us=U alloc_b=A gcs=G first_done=F": the process's CPU time (user + system, and user alone) per
// query, the bytes it allocated per query and its garbage collections, over the timed part, and when
// the first client was done, as a fraction of the run (near 1 when the clients shared the processors
// fairly; the run lasts until the last is done).
// MODE "async" (default): OpenAsync, ExecuteReaderAsync, ReadAsync on tasks, as the app servers use it.
// MODE "sync": Open, ExecuteReader, Read on one thread per client, as mariadb-slap does (blocking I/O).
// Usage: Foobar.MySql.Bench CONNECTION_STRING CONCURRENCY QUERIES SQL [async|sync]
using System.Diagnostics;
using System.Globalization;
using Foobar.MySql;

if (args.Length is < 4 or > 5 || args.Length == 5 && args[4] is not ("async" or "sync"))
{
    Console.Error.WriteLine("usage: Foobar.MySql.Bench CONNECTION_STRING CONCURRENCY QUERIES SQL [async|sync]");
    return 2;
}
var connectionString = args[0] + ";Pooling=false";
var concurrency = int.Parse(args[1], CultureInfo.InvariantCulture);
var total = int.Parse(args[2], CultureInfo.InvariantCulture);
var sql = args[3];
var synchronous = args.Length == 5 && args[4] == "sync";
var perClient = total / concurrency;
var warmUpUntil = Stopwatch.GetTimestamp() + (long)(double.Parse(Environment.GetEnvironmentVariable("WARMUP_SECONDS") ?? "3", CultureInfo.InvariantCulture) * Stopwatch.Frequency);

using var ready = new CountdownEvent(concurrency);
using var go = new ManualResetEventSlim();
var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
long rows;
Stopwatch clock;
TimeSpan cpuBefore, userBefore;
long allocatedBefore = 0, collectionsBefore = 0;
// When the first client finished: the clients shared the processors fairly when that is close to the end.
long firstDone = 0, start0 = 0;
void Finished() => Interlocked.CompareExchange(ref firstDone, Stopwatch.GetTimestamp(), 0);
void Mark()
{
    allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
    collectionsBefore = GC.CollectionCount(0);
}
if (synchronous)
{
    var counts = new long[concurrency];
    var threads = Enumerable.Range(0, concurrency).Select(i => new Thread(() =>
    {
        using var connection = new MySqlConnection(connectionString);
        connection.Open();
        using var command = new MySqlCommand(sql, connection);
        while (Stopwatch.GetTimestamp() < warmUpUntil)
        {
            Run(command, 20);
        }
        ready.Signal();
        go.Wait();
        counts[i] = Run(command, perClient);
        Finished();
    })).ToList();
    threads.ForEach(t => t.Start());
    ready.Wait();
    Mark();
    cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    userBefore = Process.GetCurrentProcess().UserProcessorTime;
    start0 = Stopwatch.GetTimestamp();
    clock = Stopwatch.StartNew();
    go.Set();
    threads.ForEach(t => t.Join());
    rows = counts.Sum();
}
else
{
    var clients = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        while (Stopwatch.GetTimestamp() < warmUpUntil)
        {
            await RunAsync(command, 20);
        }
        ready.Signal();
        await start.Task;
        var seen = await RunAsync(command, perClient);
        Finished();
        return seen;
    })).ToList();
    ready.Wait();
    Mark();
    cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    userBefore = Process.GetCurrentProcess().UserProcessorTime;
    start0 = Stopwatch.GetTimestamp();
    clock = Stopwatch.StartNew();
    start.SetResult();
    rows = (await Task.WhenAll(clients)).Sum();
}
var elapsed = clock.Elapsed.TotalSeconds;
var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
var user = Process.GetCurrentProcess().UserProcessorTime - userBefore;
var queries = perClient * concurrency;
var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
var collections = GC.CollectionCount(0) - collectionsBefore;
Console.WriteLine((queries / elapsed).ToString("F0", CultureInfo.InvariantCulture) + $" rows={rows}" +
    " cpu_us=" + (cpu.TotalMicroseconds / queries).ToString("F1", CultureInfo.InvariantCulture) +
    " user_us=" + (user.TotalMicroseconds / queries).ToString("F1", CultureInfo.InvariantCulture) +
    " alloc_b=" + (allocated / queries).ToString(CultureInfo.InvariantCulture) + $" gcs={collections}" +
    " first_done=" + (Stopwatch.GetElapsedTime(start0, firstDone).TotalSeconds / elapsed).ToString("F2", CultureInfo.InvariantCulture));
return 0;

static async Task<long> RunAsync(MySqlCommand command, int queries)
{
    long seen = 0;
    for (var i = 0; i < queries; i++)
    {
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            seen++;
        }
    }
    return seen;
}

static long Run(MySqlCommand command, int queries)
{
    long seen = 0;
    for (var i = 0; i < queries; i++)
    {
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            seen++;
        }
    }
    return seen;
}
