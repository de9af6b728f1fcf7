// The same work as `mariadb-slap --concurrency=C --number-of-queries=N --query=Q`: C clients share N
// queries, each client on its own connection, every row of every result read. Each client first runs
// a warm-up share untimed (JIT: slap is compiled C), then all start together and the clock runs until
// the last finishes. Prints queries per second.
// Usage: Foobar.MySql.Bench CONNECTION_STRING CONCURRENCY QUERIES SQL
using System.Diagnostics;
using System.Globalization;
using Foobar.MySql;

if (args.Length != 4)
{
    Console.Error.WriteLine("usage: Foobar.MySql.Bench CONNECTION_STRING CONCURRENCY QUERIES SQL");
    return 2;
}
var connectionString = args[0] + ";Pooling=false";
var concurrency = int.Parse(args[1], CultureInfo.InvariantCulture);
var total = int.Parse(args[2], CultureInfo.InvariantCulture);
var sql = args[3];
var perClient = total / concurrency;
var warmUp = Math.Max(50, perClient / 10);

using var ready = new CountdownEvent(concurrency);
var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
var clients = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
{
    await using var connection = new MySqlConnection(connectionString);
    await connection.OpenAsync();
    await using var command = new MySqlCommand(sql, connection);
    await RunAsync(command, warmUp);
    ready.Signal();
    await go.Task;
    return await RunAsync(command, perClient);
})).ToList();
ready.Wait();
var clock = Stopwatch.StartNew();
go.SetResult();
var rows = (await Task.WhenAll(clients)).Sum();
var elapsed = clock.Elapsed.TotalSeconds;
Console.WriteLine((perClient * concurrency / elapsed).ToString("F0", CultureInfo.InvariantCulture) + $" rows={rows}");
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
