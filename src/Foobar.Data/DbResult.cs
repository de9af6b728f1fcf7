namespace Foobar.Data;

/// <summary>What a read or write returned, which server answered, and for a write its GTID.</summary>
/// <param name="Value">The result of the caller's work.</param>
/// <param name="ServedBy">The db server that ran it.</param>
/// <param name="Gtid">After a write: its GTID, to pass to later reads that must see it.</param>
public readonly record struct DbResult<T>(T Value, string ServedBy, string? Gtid);
