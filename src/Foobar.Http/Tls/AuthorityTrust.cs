using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Foobar.Http.Tls;

/// <summary>Client-side TLS that trusts one authority (the topology's local one) instead of the system's.</summary>
public static class AuthorityTrust
{
    /// <summary>
    /// Options under which a server's certificate must chain to <paramref name="authority"/>
    /// (revocation not checked: the local authority publishes no lists) and still name the host
    /// or address connected to.
    /// </summary>
    public static SslClientAuthenticationOptions Only(X509Certificate2 authority) => new()
    {
        CertificateChainPolicy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            CustomTrustStore = { authority },
            RevocationMode = X509RevocationMode.NoCheck,
        },
    };
}
