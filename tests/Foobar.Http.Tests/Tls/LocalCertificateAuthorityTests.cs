using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Foobar.Http.Tls;
using Foobar.Testing;

namespace Foobar.Http.Tests.Tls;

public sealed class LocalCertificateAuthorityTests : IDisposable
{
    private static readonly IPAddress Public = IPAddress.Parse("127.10.0.1");
    private readonly string _state = Directory.CreateTempSubdirectory("foobar-tls-").FullName;
    private readonly FakeTimeProvider _time = new();

    private string Dir => Path.Combine(_state, "tls");

    public void Dispose() => Directory.Delete(_state, recursive: true);

    private SiteCertificate Create(string domain = "foobar.com", params IPAddress[] addresses) =>
        LocalCertificateAuthority.LoadOrCreate(Dir, domain, addresses.Length == 0 ? [Public] : addresses, _time);

    [Fact]
    public void Create_IssuesASiteCertificateForTheSiteNames_ThatChainsToTheAuthority_WithPrivateKeys()
    {
        var site = Create();

        using var certificate = site.Load();
        using var authority = site.LoadAuthority();
        var names = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["www.foobar.com", "foobar.com"], names.EnumerateDnsNames());
        Assert.Equal([Public], names.EnumerateIPAddresses());
        Assert.True(certificate.HasPrivateKey);
        Assert.False(certificate.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.True(authority.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = _time.GetUtcNow().UtcDateTime;
        Assert.True(chain.Build(certificate), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
        foreach (var key in new[] { "site.key", "ca.key" })
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(Dir, key)));
        }
    }

    [Fact]
    public void SecondCall_LoadsTheSameCertificate()
    {
        using var first = Create().Load();
        using var second = Create().Load();

        Assert.Equal(first.Thumbprint, second.Thumbprint);
    }

    [Fact]
    public async Task ProcessesRacingToCreate_AllGetTheWinnersCertificate()
    {
        var thumbprints = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            using var certificate = Create().Load();
            return certificate.Thumbprint;
        })));

        Assert.Single(thumbprints.Distinct());
        Assert.Equal([".renew.lock", "ca.crt", "ca.key", "site.crt", "site.key"], Directory.GetFiles(Dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(["tls"], Directory.GetFileSystemEntries(_state).Select(Path.GetFileName));
    }

    [Fact]
    public void RenewalLock_ExcludesReadersWhileHeld_AndLoadOrCreateLeavesItFree()
    {
        Create().Load().Dispose();

        using (RenewalLock.Take(Dir, exclusive: true))
        {
            Assert.Throws<IOException>(() => RenewalLock.Take(Dir, exclusive: false, TimeSpan.Zero).Dispose());
        }
        using (RenewalLock.Take(Dir, exclusive: false))
        using (RenewalLock.Take(Dir, exclusive: false))
        {
            Assert.Throws<IOException>(() => RenewalLock.Take(Dir, exclusive: true, TimeSpan.Zero).Dispose());
        }
        RenewalLock.Take(Dir, exclusive: true, TimeSpan.Zero).Dispose();
    }

    [Fact]
    public async Task ProcessesRacingToRenew_AndReaders_NeverSeeAKeyThatIsNotTheCertificates()
    {
        Create().Load().Dispose();
        _time.Advance(LocalCertificateAuthority.SiteValidity - TimeSpan.FromDays(10));

        // Renewers for new names and readers, all at once: each Load pairs a certificate with its own key or throws.
        var loads = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Task.Run(() =>
        {
            var site = i % 2 == 0 ? Create("foobar.com", Public, IPAddress.Parse($"127.10.0.{10 + i}")) : new SiteCertificate(Path.Combine(Dir, "site.crt"), Path.Combine(Dir, "site.key"), Path.Combine(Dir, "ca.crt"));
            using var certificate = site.Load();
            return certificate.HasPrivateKey;
        })));
        using var final = Create().Load();

        Assert.All(loads, Assert.True);
        Assert.True(final.NotAfter > _time.GetUtcNow().AddDays(300));
    }

    [Fact]
    public void NearExpiry_OrNewNames_TheSiteCertificateIsIssuedAgain_BySameAuthority()
    {
        using var first = Create().Load();
        using var authority = Create().LoadAuthority();

        _time.Advance(LocalCertificateAuthority.SiteValidity - TimeSpan.FromDays(10));
        using var renewed = Create().Load();
        using var renamed = Create("example.org", Public, IPAddress.Parse("127.10.0.3")).Load();

        Assert.NotEqual(first.Thumbprint, renewed.Thumbprint);
        Assert.True(renewed.NotAfter > first.NotAfter);
        Assert.Contains("www.example.org", renamed.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
        Assert.Equal(authority.Thumbprint, Create("example.org", Public, IPAddress.Parse("127.10.0.3")).LoadAuthority().Thumbprint);
        Assert.Equal(authority.Subject, renamed.Issuer);
    }

    [Fact]
    public void UnreadableOrExposedFiles_AreAClearError()
    {
        Create();
        File.SetUnixFileMode(Path.Combine(Dir, "site.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        var exposed = Assert.Throws<InvalidDataException>(() => Create());
        Assert.Contains("chmod 600", exposed.Message);

        File.SetUnixFileMode(Path.Combine(Dir, "site.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(Path.Combine(Dir, "site.key"), "not a key");
        var broken = Assert.Throws<InvalidDataException>(() => Create());
        Assert.Contains($"delete {Dir}", broken.Message);
    }

    [Theory]
    [InlineData(SslProtocols.Tls12)]
    [InlineData(SslProtocols.Tls13)]
    public async Task Handshake_WithTheSiteCertificate_IsTrustedByAClientThatTrustsTheAuthority(SslProtocols protocol)
    {
        var site = LocalCertificateAuthority.LoadOrCreate(Dir, "foobar.com", [Public], TimeProvider.System);
        using var certificate = site.Load();
        using var authority = site.LoadAuthority();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var serving = Task.Run(async () =>
        {
            using var accepted = await listener.AcceptTcpClientAsync();
            await using var server = new SslStream(accepted.GetStream());
            await server.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate, EnabledSslProtocols = protocol });
            await server.WriteAsync("hello"u8.ToArray());
        });
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        await using var tls = new SslStream(client.GetStream());

        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "www.foobar.com",
            EnabledSslProtocols = protocol,
            CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                CustomTrustStore = { authority },
                RevocationMode = X509RevocationMode.NoCheck,
            },
        });
        var buffer = new byte[5];
        await tls.ReadExactlyAsync(buffer);
        await serving;

        Assert.Equal(protocol, tls.SslProtocol);
        Assert.Equal("hello"u8.ToArray(), buffer);
    }
}
