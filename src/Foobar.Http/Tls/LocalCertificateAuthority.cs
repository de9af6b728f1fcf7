using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Foobar.Http.Tls;

/// <summary>
/// A certificate authority of the topology's own, in a directory of the state directory
/// (<c>tls/</c>): <c>ca.crt</c> and <c>ca.key</c>, and a site certificate issued by it
/// (<c>site.crt</c>, <c>site.key</c>) for <c>www.DOMAIN</c>, <c>DOMAIN</c> and the given addresses.
/// Keys are ECDSA P-256, mode 0600. Clients trust <c>ca.crt</c> (curl <c>--cacert</c>, a
/// browser's authorities); nothing leaves the machine.
/// </summary>
/// <remarks>
/// Creation is atomic: everything is written to a directory of its own and renamed into place,
/// so processes racing to create it (the control plane and servers started by hand) all end up
/// with the winner's. Renewal replaces two files, so it happens under an exclusive
/// <see cref="RenewalLock"/> and <see cref="SiteCertificate.Load"/> reads under a shared one. The site certificate is issued again from the same authority when it would
/// expire within <see cref="RenewBefore"/> or does not name what it must; the authority lasts ten
/// years.
/// </remarks>
public static class LocalCertificateAuthority
{
    /// <summary>How long a site certificate is valid: 397 days, the most browsers accept.</summary>
    public static readonly TimeSpan SiteValidity = TimeSpan.FromDays(397);

    /// <summary>A site certificate is issued again this long before it expires.</summary>
    public static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    private static readonly TimeSpan AuthorityValidity = TimeSpan.FromDays(3650);

    /// <summary>The site certificate in <paramref name="directory"/>, created or renewed as needed.</summary>
    /// <param name="directory">Where the files are (created).</param>
    /// <param name="domain">The site's domain: the certificate names <c>www.DOMAIN</c> and <c>DOMAIN</c>.</param>
    /// <param name="addresses">Addresses clients may use instead of a name.</param>
    /// <param name="time">The clock; certificates start a little before now.</param>
    /// <exception cref="InvalidDataException">A file is there but unreadable, or a key file others can read; the message says which and what to do.</exception>
    public static SiteCertificate LoadOrCreate(string directory, string domain, IReadOnlyList<IPAddress> addresses, TimeProvider time)
    {
        directory = Path.GetFullPath(directory);
        var site = new SiteCertificate(Path.Combine(directory, "site.crt"), Path.Combine(directory, "site.key"), Path.Combine(directory, "ca.crt"));
        if (!Directory.Exists(directory))
        {
            CreateAtomically(directory, domain, addresses, time);
        }
        // Servers starting together may all find it due: one renews, the others then find it done.
        using (RenewalLock.Take(directory, exclusive: true))
        {
            if (NeedsRenewal(site, domain, addresses, time))
            {
                Renew(directory, site, domain, addresses, time);
            }
        }
        return site;
    }

    private static bool NeedsRenewal(SiteCertificate site, string domain, IReadOnlyList<IPAddress> addresses, TimeProvider time)
    {
        using var current = Read(site);
        return current.NotAfter.ToUniversalTime() - time.GetUtcNow().UtcDateTime < RenewBefore || !Names(current, domain, addresses);
    }

    private static void CreateAtomically(string directory, string domain, IReadOnlyList<IPAddress> addresses, TimeProvider time)
    {
        var parent = Path.GetDirectoryName(directory)!;
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(directory)}.{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            using var authorityKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var authority = CreateAuthority(authorityKey, domain, time);
            File.WriteAllText(Path.Combine(staging, "ca.crt"), authority.ExportCertificatePem());
            WriteSecret(Path.Combine(staging, "ca.key"), authorityKey.ExportPkcs8PrivateKeyPem());
            Issue(staging, authority, domain, addresses, time);
            try
            {
                Directory.Move(staging, directory);
            }
            catch (IOException) when (Directory.Exists(directory))
            {
                // Another process won: its authority is the one.
            }
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    private static void Renew(string directory, SiteCertificate site, string domain, IReadOnlyList<IPAddress> addresses, TimeProvider time)
    {
        var authorityKeyFile = Path.Combine(directory, "ca.key");
        X509Certificate2 authority;
        try
        {
            authority = X509Certificate2.CreateFromPemFile(site.AuthorityFile, authorityKeyFile);
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException or ArgumentException)
        {
            throw new InvalidDataException($"{site.AuthorityFile} and {authorityKeyFile} do not load as the authority and its key ({e.Message}); delete {directory} to create a new authority (clients must then trust the new ca.crt)", e);
        }
        using var _ = authority;
        var staging = Path.Combine(directory, $".renew.{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            Issue(staging, authority, domain, addresses, time);
            // Key first: a reader between the two renames finds the new key with the old
            // certificate and fails to load, rather than silently pairing old and new.
            File.Move(Path.Combine(staging, "site.key"), site.KeyFile, overwrite: true);
            File.Move(Path.Combine(staging, "site.crt"), site.CertificateFile, overwrite: true);
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    private static X509Certificate2 CreateAuthority(ECDsa key, string domain, TimeProvider time)
    {
        var request = new CertificateRequest($"CN=Foobar local authority for {domain}, O=Foobar", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = time.GetUtcNow();
        return request.CreateSelfSigned(now.AddMinutes(-5), now.Add(AuthorityValidity));
    }

    /// <summary>Writes site.crt and site.key into <paramref name="directory"/>, signed by <paramref name="authority"/> (which has its private key).</summary>
    private static void Issue(string directory, X509Certificate2 authority, string domain, IReadOnlyList<IPAddress> addresses, TimeProvider time)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=www.{domain}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName($"www.{domain}");
        names.AddDnsName(domain);
        foreach (var address in addresses)
        {
            names.AddIpAddress(address);
        }
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var now = time.GetUtcNow();
        var notAfter = now.Add(SiteValidity) < authority.NotAfter ? now.Add(SiteValidity) : new DateTimeOffset(authority.NotAfter);
        using var certificate = request.Create(authority, now.AddMinutes(-5), notAfter, RandomNumberGenerator.GetBytes(16));
        File.WriteAllText(Path.Combine(directory, "site.crt"), certificate.ExportCertificatePem());
        WriteSecret(Path.Combine(directory, "site.key"), key.ExportPkcs8PrivateKeyPem());
    }

    private static X509Certificate2 Read(SiteCertificate site)
    {
        foreach (var file in new[] { site.KeyFile, Path.Combine(Path.GetDirectoryName(site.KeyFile)!, "ca.key") })
        {
            if (File.Exists(file) && (File.GetUnixFileMode(file) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0)
            {
                throw new InvalidDataException($"{file} is a private key but others can read it; run chmod 600 {file}");
            }
        }
        try
        {
            return site.LoadUnlocked();
        }
        catch (Exception e) when (e is CryptographicException or IOException or ArgumentException)
        {
            throw new InvalidDataException(
                $"{site.CertificateFile} and {site.KeyFile} do not load as a certificate and its key ({e.Message}); delete {Path.GetDirectoryName(site.KeyFile)} to create a new authority and certificate (clients must then trust the new ca.crt)", e);
        }
    }

    private static bool Names(X509Certificate2 certificate, string domain, IReadOnlyList<IPAddress> addresses)
    {
        var extension = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        if (extension is null)
        {
            return false;
        }
        var dns = extension.EnumerateDnsNames().ToHashSet(StringComparer.OrdinalIgnoreCase);
        var ips = extension.EnumerateIPAddresses().ToHashSet();
        return dns.Contains($"www.{domain}") && dns.Contains(domain) && addresses.All(ips.Contains);
    }

    private static void WriteSecret(string file, string text)
    {
        using var stream = new FileStream(file, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        using var writer = new StreamWriter(stream);
        writer.Write(text);
    }
}
