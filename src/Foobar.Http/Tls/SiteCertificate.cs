using System.Security.Cryptography.X509Certificates;

namespace Foobar.Http.Tls;

/// <summary>The certificate a site is served with, as PEM files, and the authority that issued it.</summary>
/// <param name="CertificateFile">The site's certificate.</param>
/// <param name="KeyFile">Its private key (mode 0600).</param>
/// <param name="AuthorityFile">The certificate of the authority that issued it: what clients trust.</param>
public sealed record SiteCertificate(string CertificateFile, string KeyFile, string AuthorityFile)
{
    /// <summary>The certificate with its private key, for Kestrel or SslStream.</summary>
    public X509Certificate2 Load() => X509Certificate2.CreateFromPemFile(CertificateFile, KeyFile);

    /// <summary>The issuing authority's certificate.</summary>
    public X509Certificate2 LoadAuthority() => X509CertificateLoader.LoadCertificateFromFile(AuthorityFile);
}
