using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Foobar.Db.Tests;

/// <summary>Real mariadbd processes, each in a directory and on an address of its own.</summary>
public sealed class MariaDbInstanceTests : IDisposable
{
    private static int _instances;
    private readonly string _dir = Directory.CreateTempSubdirectory("foobar-db-").FullName;
    private readonly MariaDbOptions _options;

    public MariaDbInstanceTests()
    {
        var n = Interlocked.Increment(ref _instances);
        _options = new MariaDbOptions
        {
            Directory = _dir,
            Address = IPAddress.Parse($"127.{50 + Environment.ProcessId % 50}.251.{n}"),
            ServerId = 7,
        };
    }

    [Fact]
    public async Task Initialize_EmptyDirectory_CreatesTheDataDirectoryOnce()
    {
        Assert.True(await MariaDbInstance.InitializeAsync(_options));
        Assert.True(Directory.Exists(Path.Combine(_options.DataDirectory, "mysql")));

        Assert.False(await MariaDbInstance.InitializeAsync(_options));
    }

    [Fact]
    public async Task Start_ServesOnItsAddressWithItsServerId_AndStopEndsIt()
    {
        await MariaDbInstance.InitializeAsync(_options);
        var instance = await MariaDbInstance.StartAsync(_options);

        Assert.Equal("7\t" + _options.Address, (await RootSql("SELECT @@server_id, @@bind_address")).Trim());
        Assert.Equal("utf8mb4", (await RootSql("SELECT @@character_set_server")).Trim());
        Assert.Equal("pool-of-threads", (await RootSql("SELECT @@thread_handling")).Trim());
        await instance.StopAsync(TimeSpan.FromSeconds(30));

        Assert.True(instance.Exited.IsCompleted);
        await instance.DisposeAsync();
    }

    [Fact]
    public async Task Restart_KeepsTheData()
    {
        await MariaDbInstance.InitializeAsync(_options);
        await using (await MariaDbInstance.StartAsync(_options))
        {
            await RootSql("CREATE DATABASE kept; CREATE TABLE kept.t (v INT); INSERT INTO kept.t VALUES (42)");
        }

        await using var again = await MariaDbInstance.StartAsync(_options);

        Assert.Equal("42", (await RootSql("SELECT v FROM kept.t")).Trim());
    }

    [Fact]
    public async Task Start_WhileAnEarlierMariadbdStillRunsOnTheDirectory_StopsItFirst()
    {
        await MariaDbInstance.InitializeAsync(_options);
        await using var stale = await MariaDbInstance.StartAsync(_options);

        await using var fresh = await MariaDbInstance.StartAsync(_options);

        await stale.Exited.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(fresh.Exited.IsCompleted);
        Assert.Equal("7", (await RootSql("SELECT @@server_id")).Trim());
    }

    [Fact]
    public async Task Initialize_ForeignDirectory_IsRefusedAndLeftUntouched()
    {
        Directory.CreateDirectory(_options.DataDirectory);
        var precious = Path.Combine(_options.DataDirectory, "thesis.tex");
        await File.WriteAllTextAsync(precious, "do not overwrite");

        var e = await Assert.ThrowsAsync<MariaDbException>(() => MariaDbInstance.InitializeAsync(_options));

        Assert.Contains("is not a MariaDB data directory", e.Message);
        Assert.Equal("do not overwrite", await File.ReadAllTextAsync(precious));
        Assert.Single(Directory.EnumerateFileSystemEntries(_options.DataDirectory));
    }

    [Fact]
    public async Task Start_CorruptedSystemTablespace_FailsWithTheErrorLogExcerpt_AndLeavesTheFilesAlone()
    {
        await MariaDbInstance.InitializeAsync(_options);
        await (await MariaDbInstance.StartAsync(_options)).DisposeAsync();
        var ibdata = Path.Combine(_options.DataDirectory, "ibdata1");
        await using (var file = File.OpenWrite(ibdata))
        {
            // Page 0 (the file space header) and the pages after it become noise.
            file.Write(Enumerable.Range(0, 64 * 1024).Select(i => (byte)(i * 7 + 13)).ToArray());
        }
        var corrupted = await File.ReadAllBytesAsync(ibdata);

        var e = await Assert.ThrowsAsync<MariaDbException>(() => MariaDbInstance.StartAsync(_options));

        Assert.StartsWith("mariadbd exited with code 1 while starting: InnoDB: ", e.Message);
        Assert.Contains("; last lines of " + _options.ErrorLog, e.Message);
        Assert.Equal(corrupted, await File.ReadAllBytesAsync(ibdata));
        Assert.False(await MariaDbInstance.InitializeAsync(_options));
    }

    [Fact]
    public async Task Start_MissingServerProgram_SaysWhichPackageToInstall()
    {
        var e = await Assert.ThrowsAsync<MariaDbException>(() => MariaDbInstance.StartAsync(_options with { ServerProgram = "/nonexistent/mariadbd" }));

        Assert.Contains("mariadb-server", e.Message);
    }

    [Fact]
    public async Task Start_PortTaken_FailsWithTheErrorLogExcerpt()
    {
        await MariaDbInstance.InitializeAsync(_options);
        using var squatter = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        squatter.Bind(new IPEndPoint(_options.Address, _options.Port));
        squatter.Listen();
        var clock = Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<MariaDbException>(() => MariaDbInstance.StartAsync(_options));

        Assert.StartsWith("mariadbd exited with code 1 while starting: ", e.Message);
        Assert.Contains("Address already in use", e.Message.Split('\n')[0]);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<string> RootSql(string sql)
    {
        var start = new ProcessStartInfo("mariadb") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--no-defaults", "-uroot", $"-S{_options.SocketPath}", "-N", "-B", "-e", sql })
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, error);
        return output;
    }
}
