namespace Foobar.Db.Schema;

/// <summary>The application's schema on the cluster.</summary>
public static class DbSchema
{
    /// <summary>The database the application's tables live in.</summary>
    public const string Name = "foobar";
}
