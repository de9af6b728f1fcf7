namespace Foobar.Db.Schema;

/// <summary>One versioned change of the application's schema. Versions only grow; a migration is never edited once shipped.</summary>
/// <param name="Version">Order of application, from 1.</param>
/// <param name="Name">What it does, for the record table and logs.</param>
/// <param name="Sql">Statements, run in the application's database.</param>
public sealed record Migration(int Version, string Name, string Sql);
