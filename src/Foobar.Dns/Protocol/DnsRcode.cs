namespace Foobar.Dns.Protocol;

/// <summary>Response codes (RFC 1035 §4.1.1).</summary>
public enum DnsRcode : byte
{
    /// <summary>No error (with no answers: the name exists, not with that type).</summary>
    NoError = 0,
    /// <summary>The query was malformed.</summary>
    FormatError = 1,
    /// <summary>The server failed.</summary>
    ServerFailure = 2,
    /// <summary>The name does not exist in the zone.</summary>
    NameError = 3,
    /// <summary>The kind of query is not supported.</summary>
    NotImplemented = 4,
    /// <summary>The server does not answer for that name.</summary>
    Refused = 5,
}
