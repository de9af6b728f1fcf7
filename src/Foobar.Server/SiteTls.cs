using System.Security.Cryptography.X509Certificates;
using Foobar.Http.Tls;
using Foobar.Topology;

namespace Foobar.Server;

/// <summary>
/// The TLS material of one server: the local authority's site certificate (created on first use,
/// in the state directory's <c>tls/</c>), the site's own certificate files when the topology names
/// them, and the authority Foobar's tiers trust when they connect to each other over https.
/// </summary>
/// <remarks>
/// Every server asks the authority for a certificate naming the same things, the site's names and
/// the addresses of every server that may speak TLS (the public address, load balancers, web and
/// app servers), so one certificate serves all and none of them renews it for the others.
/// </remarks>
internal sealed class SiteTls(Topology.Topology topology, ServerPaths paths)
{
    private SiteCertificate? _local;
    private X509Certificate2? _hopAuthority;

    /// <summary>Whether any listener or hop of the topology speaks TLS.</summary>
    public bool InUse => topology.Public.HttpsPort is not null || topology.Web.Tls || topology.App.Tls;

    /// <summary>What a TLS listener presents; with <paramref name="own"/>, the topology's own certificate to clients that ask for a name.</summary>
    /// <exception cref="InvalidDataException">A certificate or key file does not load; the message names it.</exception>
    public ServerCertificates Certificates(bool own) => new(Local.Load(), own ? Own() : null);

    /// <summary>The authority the tiers check each other's certificates against; null when no hop speaks TLS.</summary>
    public X509Certificate2? HopAuthority => topology.Web.Tls || topology.App.Tls ? _hopAuthority ??= Local.LoadAuthority() : null;

    private SiteCertificate Local => _local ??= LocalCertificateAuthority.LoadOrCreate(paths.TlsDirectory, topology.Domain,
        [topology.Public.Address, .. new[] { Role.Lb, Role.Web, Role.App }.SelectMany(topology.ServersWith).Select(s => s.Address).Distinct()],
        TimeProvider.System);

    private X509Certificate2? Own()
    {
        if (topology.Public is not { Certificate: { } certificate, Key: { } key })
        {
            return null;
        }
        var certificateFile = Path.Combine(topology.BaseDirectory, certificate);
        var keyFile = Path.Combine(topology.BaseDirectory, key);
        try
        {
            return X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException or ArgumentException)
        {
            throw new InvalidDataException($"public.certificate {certificateFile} and public.key {keyFile} do not load as a certificate and its private key (PEM): {e.Message}", e);
        }
    }
}
