using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Foobar.Db;

namespace Foobar.Testing;

/// <summary>
/// A real MariaDB server for tests (a <see cref="MariaDbInstance"/>, as the db role runs them) on a
/// loopback address of its own, with TLS (a CA made here) and test users:
/// <c>app</c> (mysql_native_password) and <c>ed</c> (ed25519). No system service is involved.
/// </summary>
public sealed class MariaDbServer : IAsyncDisposable
{
    public const string AppUser = "app";
    public const string AppPassword = "app-pass'\"\\;";
    public const string Ed25519User = "ed";
    public const string Ed25519Password = "ed-pass";
    public const string Database = "foobar_test";

    private static int _instances;
    private readonly MariaDbInstance _instance;

    private MariaDbServer(MariaDbInstance instance, string caFile)
    {
        _instance = instance;
        CaFile = caFile;
    }

    public string Directory => _instance.Options.Directory;

    public IPAddress Address => _instance.Options.Address;

    public int Port => _instance.Options.Port;

    /// <summary>PEM of the CA that signed the server's certificate (issued for 'localhost' and the address).</summary>
    public string CaFile { get; }

    public int Pid => _instance.Pid;

    public string ConnectionString(string user = AppUser, string password = AppPassword, string extra = "")
    {
        // The generic builder quotes values, so a password with ; ' " \ survives.
        var builder = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = extra };
        builder["Server"] = Address.ToString();
        builder["Port"] = Port;
        builder["User ID"] = user;
        builder["Password"] = password;
        builder["Database"] = Database;
        return builder.ConnectionString;
    }

    public static async Task<MariaDbServer> StartAsync()
    {
        var n = Interlocked.Increment(ref _instances);
        var address = IPAddress.Parse($"127.{50 + Environment.ProcessId % 50}.250.{n}");
        var dir = System.IO.Directory.CreateTempSubdirectory($"foobar-mariadb-{n}-").FullName;
        MariaDbInstance? instance = null;
        try
        {
            var ca = WriteCertificates(dir, address);
            var options = new MariaDbOptions
            {
                Directory = dir,
                Address = address,
                ServerId = 1,
                ExtraArguments =
                [
                    "--log-bin=binlog", "--binlog-format=ROW", "--gtid-strict-mode=ON", "--max-allowed-packet=64M",
                    $"--ssl-ca={dir}/ca.pem", $"--ssl-cert={dir}/server.pem", $"--ssl-key={dir}/server-key.pem",
                ],
            };
            await MariaDbInstance.InitializeAsync(options);
            instance = await MariaDbInstance.StartAsync(options);
            var server = new MariaDbServer(instance, ca);
            await server.RootSqlAsync($"""
                CREATE DATABASE {Database};
                CREATE USER '{AppUser}'@'%' IDENTIFIED BY '{AppPassword.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal)}';
                GRANT ALL ON *.* TO '{AppUser}'@'%';
                INSTALL SONAME 'auth_ed25519';
                CREATE USER '{Ed25519User}'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('{Ed25519Password}');
                GRANT ALL ON *.* TO '{Ed25519User}'@'%';
                """);
            return server;
        }
        catch
        {
            // A failed start leaves nothing behind: no mariadbd, no directory.
            if (instance is not null)
            {
                await instance.DisposeAsync();
            }
            System.IO.Directory.Delete(dir, recursive: true);
            throw;
        }
    }

    /// <summary>Runs SQL as root through the Unix socket with the mariadb command-line client.</summary>
    public Task<string> RootSqlAsync(string sql) =>
        RunAsync("mariadb", "--no-defaults", "-uroot", $"-S{_instance.Options.SocketPath}", "-N", "-B", "-e", sql);

    public async ValueTask DisposeAsync()
    {
        await _instance.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private static async Task<string> RunAsync(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} failed ({process.ExitCode}): {await stderr}{await stdout}");
        }
        return await stdout;
    }

    /// <summary>A CA and a server certificate it signed, for 'localhost' and <paramref name="address"/>.</summary>
    private static string WriteCertificates(string dir, IPAddress address)
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=Foobar Test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));

        using var serverKey = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(address);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var server = request.Create(ca, now.AddDays(-1), now.AddYears(1).AddDays(-1), RandomNumberGenerator.GetBytes(8));

        var caFile = Path.Combine(dir, "ca.pem");
        File.WriteAllText(caFile, ca.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, "server.pem"), server.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, "server-key.pem"), serverKey.ExportPkcs8PrivateKeyPem());
        return caFile;
    }
}
