namespace Foobar.MySql.Protocol;

/// <summary>Client/server capability flags (https://mariadb.com/kb/en/connection/#capabilities).</summary>
[Flags]
internal enum CapabilityFlags : uint
{
    None = 0,
    LongPassword = 1,
    FoundRows = 1 << 1,
    LongFlag = 1 << 2,
    ConnectWithDb = 1 << 3,
    Compress = 1 << 5,
    LocalFiles = 1 << 7,
    Protocol41 = 1 << 9,
    Interactive = 1 << 10,
    Ssl = 1 << 11,
    Transactions = 1 << 13,
    SecureConnection = 1 << 15,
    MultiStatements = 1 << 16,
    MultiResults = 1 << 17,
    PsMultiResults = 1 << 18,
    PluginAuth = 1 << 19,
    ConnectAttributes = 1 << 20,
    PluginAuthLengthEncodedClientData = 1 << 21,
    SessionTrack = 1 << 23,
    DeprecateEof = 1 << 24,
}
