using System.Security.Cryptography.X509Certificates;

namespace Foobar.Http.Tls;

/// <summary>The certificate a site is served with, as PEM files, and the authority that issued it.</summary>
/// <param name="CertificateFile">The site's certificate.</param>
/// <param name="KeyFile">Its private key (mode 0600).</param>
/// <param name="AuthorityFile">The certificate of the authority that issued it: what clients trust.</param>
public sealed record SiteCertificate(string CertificateFile, string KeyFile, string AuthorityFile)
{
    /// <summary>The certificate with its private key, for Kestrel or SslStream; never a renewal's new key with the old certificate.</summary>
    public X509Certificate2 Load()
    {
        using (RenewalLock.TakeSharedIfPresent(Path.GetDirectoryName(Path.GetFullPath(KeyFile))!))
        {
            return LoadUnlocked();
        }
    }

    /// <summary><see cref="Load"/> for a caller that holds the renewal lock already.</summary>
    internal X509Certificate2 LoadUnlocked() => X509Certificate2.CreateFromPemFile(CertificateFile, KeyFile);

    /// <summary>The issuing authority's certificate.</summary>
    public X509Certificate2 LoadAuthority() => X509CertificateLoader.LoadCertificateFromFile(AuthorityFile);
}
