// The same work as `mariadb-slap --concurrency=C --number-of-queries=N --query=Q`: C clients, each
// with its own connection opened inside the timed region (as slap's are), share N queries; every
// row of every result is read. Prints queries per second.
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

var clock = Stopwatch.StartNew();
var rows = await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
{
    long seen = 0;
    await using var connection = new MySqlConnection(connectionString);
    await connection.OpenAsync();
    await using var command = new MySqlCommand(sql, connection);
    for (var i = 0; i < perClient; i++)
    {
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            seen++;
        }
    }
    return seen;
})));
var elapsed = clock.Elapsed.TotalSeconds;
Console.WriteLine((perClient * concurrency / elapsed).ToString("F0", CultureInfo.InvariantCulture) + $" rows={rows.Sum()}");
return 0;
