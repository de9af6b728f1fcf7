namespace Foobar.MySql.Protocol;

/// <summary>Server status flags carried by OK and EOF packets.</summary>
[Flags]
internal enum ServerStatus : ushort
{
    None = 0,
    InTransaction = 1,
    Autocommit = 2,
    MoreResultsExist = 8,
    NoBackslashEscapes = 512,
    SessionStateChanged = 16384,
}
