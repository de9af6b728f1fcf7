using System.Security.Cryptography.X509Certificates;

namespace Foobar.Http.Tls;

/// <summary>
/// What a TLS listener presents: the certificate of the topology's local authority, which names
/// the site and every server's address (what Foobar's own tiers check against), and optionally
/// the site's own certificate from files, for clients that ask for a name.
/// </summary>
/// <param name="Local">Issued by the local authority; presented to clients that send no server name (SNI), as Foobar's tiers connecting by address do.</param>
/// <param name="Own">The site's certificate from <c>public.certificate</c>; presented to clients that send a server name. Null: <paramref name="Local"/> for everyone.</param>
public sealed record ServerCertificates(X509Certificate2 Local, X509Certificate2? Own = null)
{
    /// <summary>The certificate for a client that asked for <paramref name="serverName"/> (null or empty: none).</summary>
    public X509Certificate2 Select(string? serverName) => Own is not null && !string.IsNullOrEmpty(serverName) ? Own : Local;
}
