using System.Globalization;
using Foobar.Data;
using Foobar.Db.Accounts;
using Foobar.Db.Schema;
using Foobar.Topology;

namespace Foobar.Server.Apps;

/// <summary>
/// What your own application is told, as environment variables (docs/app.md): where to listen,
/// who it is, and the database tier.
/// </summary>
internal static class AppEnvironment
{
    /// <summary>How long to wait for the database router to find the primary before falling back to the topology's.</summary>
    private static readonly TimeSpan PrimaryWait = TimeSpan.FromSeconds(5);

    /// <summary>The variables for app server <paramref name="server"/>; waits briefly for <paramref name="db"/> to know the primary.</summary>
    /// <param name="topology">The topology.</param>
    /// <param name="server">The app server.</param>
    /// <param name="db">Its router over the db servers; null without a database.</param>
    /// <param name="credentials">The generated accounts.</param>
    /// <param name="primaryEndpoint">The app server's stable way to the primary (<see cref="PrimaryEndpoint"/>), given as <c>FOOBAR_DB_PRIMARY</c>; null: the primary's own address.</param>
    /// <param name="cancellationToken">Stops the wait.</param>
    public static async Task<IReadOnlyDictionary<string, string>> ForAsync(Topology.Topology topology, ServerSpec server, DbRouter? db,
        DbCredentials? credentials, System.Net.IPEndPoint? primaryEndpoint, CancellationToken cancellationToken)
    {
        var port = topology.App.Port.ToString(CultureInfo.InvariantCulture);
        var variables = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PORT"] = port,
            ["FOOBAR_APP_PORT"] = port,
            ["FOOBAR_APP_ADDRESS"] = server.Address.ToString(),
            ["FOOBAR_SERVER"] = server.Name,
            ["FOOBAR_SITE"] = topology.SiteHost,
            ["FOOBAR_CHECK_PATH"] = topology.Web.CheckPath,
        };
        var dbServers = topology.ServersWith(Role.Db);
        if (db is null || credentials is null || dbServers.Count == 0)
        {
            return variables;
        }
        var deadline = DateTime.UtcNow + PrimaryWait;
        while (db.Primary is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
        var primaryName = db.Primary ?? topology.DbPrimary?.Name;
        string Endpoint(ServerSpec s) => $"{s.Address}:{topology.Db.Port}";
        variables["FOOBAR_DB_SERVERS"] = string.Join(",", dbServers.Select(Endpoint));
        variables["FOOBAR_DB_PRIMARY"] = primaryEndpoint?.ToString()
            ?? (dbServers.FirstOrDefault(s => s.Name == primaryName) is { } primary ? Endpoint(primary) : "");
        variables["FOOBAR_DB_REPLICAS"] = string.Join(",", dbServers.Where(s => s.Name != primaryName).Select(Endpoint));
        variables["FOOBAR_DB_USER"] = DbCredentials.AppUser;
        variables["FOOBAR_DB_PASSWORD"] = credentials.AppPassword;
        variables["FOOBAR_DB_NAME"] = DbSchema.Name;
        return variables;
    }
}
