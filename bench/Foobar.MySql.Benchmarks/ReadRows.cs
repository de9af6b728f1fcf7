using BenchmarkDotNet.Attributes;
using Foobar.MySql;

namespace Foobar.MySql.Benchmarks;

/// <summary>Reading a 100-row result (int, varchar, double, datetime) from a real MariaDB: time and allocations.</summary>
[MemoryDiagnoser]
public class ReadRows
{
    private MySqlConnection _connection = null!;
    private MySqlCommand _command = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var connectionString = Environment.GetEnvironmentVariable("FOOBAR_BENCH_MYSQL")
            ?? throw new InvalidOperationException("set FOOBAR_BENCH_MYSQL to a connection string; bench/mysql-allocations.sh starts a server and does");
        _connection = new MySqlConnection(connectionString);
        await _connection.OpenAsync();
        _command = new MySqlCommand("SELECT id, name, score, created FROM bench.t100", _connection);
    }

    [GlobalCleanup]
    public async Task CleanupAsync() => await _connection.DisposeAsync();

    /// <summary>Every row, no value read: the cost of the protocol and the reader.</summary>
    [Benchmark(Baseline = true)]
    public async Task<int> Rows()
    {
        var count = 0;
        await using var reader = await _command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            count++;
        }
        return count;
    }

    /// <summary>Every row with every value read through the typed getters (the string allocates).</summary>
    [Benchmark]
    public async Task<double> RowsAndValues()
    {
        double sum = 0;
        await using var reader = await _command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            sum += reader.GetInt32(0) + reader.GetString(1).Length + reader.GetDouble(2) + reader.GetDateTime(3).Second;
        }
        return sum;
    }
}
