using System.Net;
using Foobar.Dns.Protocol;

namespace Foobar.Dns;

/// <summary>
/// The names one DNS server answers for: the site (the domain and <c>www.</c> the domain), whose
/// addresses may change from query to query (the load balancers that are up), and one fixed name
/// per server. Other names in the domain do not exist; names outside it are refused.
/// </summary>
/// <param name="domain">The zone, e.g. <c>foobar.com</c>.</param>
/// <param name="site">The site's addresses now; asked on every query.</param>
/// <param name="hosts">A fixed address per host name (relative to the domain, e.g. <c>web1</c>).</param>
public sealed class Zone(string domain, Func<IReadOnlyList<IPAddress>> site, IReadOnlyDictionary<string, IPAddress> hosts)
{
    /// <summary>TTL of the site's records: short, so clients move on within seconds when a load balancer leaves.</summary>
    public static readonly TimeSpan SiteTtl = TimeSpan.FromSeconds(5);

    /// <summary>TTL of a server's own record.</summary>
    public static readonly TimeSpan HostTtl = TimeSpan.FromSeconds(60);

    private readonly string _domain = domain.ToLowerInvariant().TrimEnd('.');
    private int _rotation;

    /// <summary>The zone's name.</summary>
    public string Domain => _domain;

    /// <summary>The response to <paramref name="query"/>.</summary>
    public byte[] Answer(DnsQuery query)
    {
        var name = query.Name;
        if (name != _domain && !name.EndsWith("." + _domain, StringComparison.Ordinal))
        {
            return DnsResponse.Answer(query, DnsRcode.Refused, [], TimeSpan.Zero);
        }
        if (query.Class is not (DnsQuery.ClassIn or DnsQuery.ClassAny))
        {
            return DnsResponse.Answer(query, DnsRcode.NotImplemented, [], TimeSpan.Zero);
        }
        IReadOnlyList<IPAddress> addresses;
        TimeSpan ttl;
        if (name == _domain || name == "www." + _domain)
        {
            addresses = Rotate(site());
            ttl = SiteTtl;
        }
        else if (hosts.TryGetValue(name[..^(_domain.Length + 1)], out var host))
        {
            addresses = [host];
            ttl = HostTtl;
        }
        else
        {
            return DnsResponse.Answer(query, DnsRcode.NameError, [], TimeSpan.Zero);
        }
        // Other types of an existing name: no error, no records (NODATA).
        return DnsResponse.Answer(query, DnsRcode.NoError, query.Type is DnsQuery.TypeA or DnsQuery.TypeAny ? addresses : [], ttl);
    }

    /// <summary>Each answer starts one further along, so clients that take the first address spread over all.</summary>
    private IReadOnlyList<IPAddress> Rotate(IReadOnlyList<IPAddress> addresses)
    {
        if (addresses.Count < 2)
        {
            return addresses;
        }
        var start = (int)((uint)Interlocked.Increment(ref _rotation) % (uint)addresses.Count);
        return [.. addresses.Skip(start), .. addresses.Take(start)];
    }
}
