using System.Net;
using Microsoft.AspNetCore.Http;

namespace Foobar.Http;

/// <summary>
/// The real client of a request that came through proxies: the chain is the addresses in
/// <c>X-Forwarded-For</c> followed by the connection's remote address, and the client is the
/// rightmost of them that is not a trusted proxy. Entries left of it were written by the client
/// itself (or a proxy it chose) and prove nothing: a client cannot claim another address, only
/// prepend text that is never read.
/// </summary>
public static class ClientAddress
{
    /// <summary>
    /// The client of <paramref name="request"/>, trusting <c>X-Forwarded-For</c> only as far as
    /// every hop after it is one <paramref name="trusted"/> accepts. An entry that is not an address
    /// stops the walk: the hop right of it, or the remote address, is the client then. Null only
    /// when the connection has no remote address (in-process tests).
    /// </summary>
    public static IPAddress? Of(HttpRequest request, Func<IPAddress, bool> trusted)
    {
        var client = request.HttpContext.Connection.RemoteIpAddress;
        if (client is null)
        {
            return null;
        }
        client = Normalize(client);
        if (!trusted(client))
        {
            return client;
        }
        foreach (var header in request.Headers["X-Forwarded-For"].Reverse())
        {
            var entries = (header ?? "").Split(',');
            for (var i = entries.Length - 1; i >= 0; i--)
            {
                if (!IPAddress.TryParse(entries[i].Trim(), out var address))
                {
                    return client;
                }
                client = Normalize(address);
                if (!trusted(client))
                {
                    return client;
                }
            }
        }
        return client;
    }

    /// <summary>IPv4 as itself, not mapped into IPv6 (<c>::ffff:127.0.0.1</c>): how an address is compared with the site's.</summary>
    public static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
