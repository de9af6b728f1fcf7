using Foobar.Data;
using Foobar.MySql;

namespace Foobar.App.Guestbook;

/// <summary>Which database failures a page answers with "not just now" rather than an error.</summary>
internal static class DbFailures
{
    /// <summary>
    /// No db server answers, a connection broke mid-statement (outcome unknown), or the schema is
    /// not migrated yet (1146): all pass, so the reader is told to try again in a moment.
    /// </summary>
    public static bool IsUnavailable(Exception e) => e is DbUnavailableException || (e is MySqlException m && (m.IsTransient || m.Number == 1146));
}
