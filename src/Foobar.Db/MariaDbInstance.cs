using System.Diagnostics;
using Foobar.Db.Processes;
using System.Net;
using System.Net.Sockets;

namespace Foobar.Db;

/// <summary>
/// One mariadbd running as a child process with <c>--no-defaults</c> (nothing from /etc/mysql),
/// everything under its own directory, bound to one address. It dies with the process that
/// started it (parent-death signal), and a mariadbd left on the same data directory by an earlier
/// run is stopped before a new one starts.
/// </summary>
public sealed class MariaDbInstance : IAsyncDisposable
{
    private readonly Process _process;

    private MariaDbInstance(MariaDbOptions options, Process process)
    {
        Options = options;
        _process = process;
        Exited = process.WaitForExitAsync();
    }

    public MariaDbOptions Options { get; }

    public int Pid => _process.Id;

    /// <summary>Completes when mariadbd has exited.</summary>
    public Task Exited { get; }

    /// <summary>
    /// Creates the data directory with <c>mariadb-install-db</c> unless it already holds one; refuses
    /// a directory that holds something else rather than overwrite it.
    /// </summary>
    /// <returns>Whether it initialized a new data directory.</returns>
    public static async Task<bool> InitializeAsync(MariaDbOptions options, CancellationToken cancellationToken = default)
    {
        var data = options.DataDirectory;
        if (Directory.Exists(Path.Combine(data, "mysql")))
        {
            return false;
        }
        if (Directory.Exists(data) && Directory.EnumerateFileSystemEntries(data).Any())
        {
            throw new MariaDbException($"{data} is not empty but is not a MariaDB data directory (no mysql/ schema); move its contents away or point the server at another directory");
        }
        Directory.CreateDirectory(options.TempDirectory);
        var log = Path.Combine(options.Directory, "install.log");
        // Each instance gets its own --tmpdir: parallel installs sharing /tmp fail now and then.
        var exit = await RunAsync(options.InstallProgram, [
            "--no-defaults", "--user=root", $"--datadir={data}", "--auth-root-authentication-method=socket",
            "--skip-test-db", "--skip-name-resolve", $"--tmpdir={options.TempDirectory}"], log, cancellationToken).ConfigureAwait(false);
        if (exit != 0)
        {
            throw new MariaDbException($"{options.InstallProgram} failed with exit code {exit}; last lines of {log}:\n{Tail(log)}");
        }
        return true;
    }

    /// <summary>Starts mariadbd and waits until it accepts connections; on failure the error log explains.</summary>
    public static async Task<MariaDbInstance> StartAsync(MariaDbOptions options, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(options.TempDirectory);
        await StaleServer.StopAsync(options.PidFile, options.DataDirectory, cancellationToken).ConfigureAwait(false);
        var process = await LoggedProcess.StartAsync(options.ServerProgram, [
            "--no-defaults", "--user=root", $"--datadir={options.DataDirectory}", $"--socket={options.SocketPath}",
            $"--pid-file={options.PidFile}", $"--log-error={options.ErrorLog}",
            $"--tmpdir={options.TempDirectory}", $"--bind-address={options.Address}", $"--port={options.Port}",
            $"--server-id={options.ServerId}", "--skip-name-resolve",
            "--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci",
            // A thread per processor runs the statements, however many connections the app servers
            // hold (docs/database.md, "Threads"): with a thread per connection a busy replica had ~11
            // statements running at once on 2 processors, each costing more.
            "--thread-handling=pool-of-threads",
            // information_schema.DISKS: the free space a probe reports, over SQL, on real hosts too.
            "--plugin-load-add=disks", .. options.ExtraArguments],
            Path.Combine(options.Directory, "mariadbd.out"));
        var instance = new MariaDbInstance(options, process);
        try
        {
            await instance.WaitUntilAcceptingAsync(cancellationToken).ConfigureAwait(false);
            return instance;
        }
        catch
        {
            await instance.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>SIGTERM (mariadbd shuts down cleanly), SIGKILL after <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return;
        }
        using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await term!.WaitForExitAsync().ConfigureAwait(false);
        }
        try
        {
            await Exited.WaitAsync(grace).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _process.Kill();
            await Exited.ConfigureAwait(false);
        }
    }

    /// <summary>SIGKILL, as a crash would: no clean shutdown, InnoDB recovers at the next start.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }
        await Exited.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        _process.Dispose();
    }

    /// <summary>
    /// For messages: the first <c>[ERROR]</c> among the error log's last lines (the cause, usually),
    /// then those lines.
    /// </summary>
    public string ErrorLogExcerpt()
    {
        var tail = Tail(Options.ErrorLog);
        var cause = tail.Split('\n').Select(line => line.IndexOf("[ERROR] ", StringComparison.Ordinal) is var at and >= 0 ? line[(at + 8)..] : null)
            .FirstOrDefault(line => line is not null);
        return (cause is null ? "" : $": {cause}") + $"; last lines of {Options.ErrorLog}:\n{tail}";
    }

    /// <summary>
    /// Ready means the server answers a new TCP connection with a packet: its handshake (0x0A), or
    /// ERR 1130 (0xFF) when no account matches the prober's host yet, as on a fresh data directory.
    /// </summary>
    private async Task WaitUntilAcceptingAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var endPoint = new IPEndPoint(Options.Address, Options.Port);
        while (clock.Elapsed < Options.StartTimeout)
        {
            if (Exited.IsCompleted)
            {
                throw new MariaDbException($"mariadbd exited with code {_process.ExitCode} while starting{ErrorLogExcerpt()}");
            }
            using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            // Each probe is bounded: whatever else listens on the port (an old server, a squatter) may never answer.
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attempt.CancelAfter(TimeSpan.FromSeconds(1));
            try
            {
                await socket.ConnectAsync(endPoint, attempt.Token).ConfigureAwait(false);
                var first = new byte[5];
                if (await socket.ReceiveAsync(first, attempt.Token).ConfigureAwait(false) == 5 && first[4] is 0x0A or 0xFF)
                {
                    return;
                }
            }
            catch (SocketException)
            {
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
        throw new MariaDbException($"mariadbd did not accept connections on {endPoint} within {Options.StartTimeout.TotalSeconds:0} s{ErrorLogExcerpt()}");
    }

    private static async Task<int> RunAsync(string program, IEnumerable<string> arguments, string log, CancellationToken cancellationToken)
    {
        using var process = await LoggedProcess.StartAsync(program, arguments, log).ConfigureAwait(false);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return process.ExitCode;
    }

    private static string Tail(string file, int lines = 15)
    {
        try
        {
            var all = File.ReadAllLines(file);
            return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }
}
