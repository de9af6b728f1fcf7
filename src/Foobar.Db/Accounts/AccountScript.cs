using System.Net;
using System.Text;

namespace Foobar.Db.Accounts;

/// <summary>Who may connect from where; each account is limited to the addresses that need it.</summary>
/// <param name="Database">The application's schema.</param>
/// <param name="AppHosts">Addresses of the app servers.</param>
/// <param name="DbHosts">Addresses of the db servers (replication).</param>
/// <param name="ControlHost">The control plane's address.</param>
public sealed record AccountPlan(string Database, IReadOnlyList<IPAddress> AppHosts, IReadOnlyList<IPAddress> DbHosts, IPAddress ControlHost);

/// <summary>
/// The SQL a db server runs at every start (<c>--init-file</c>) so its accounts match the plan and
/// the credentials file. It is kept out of the binary log: each server sets up its own accounts, so
/// no server ever holds a transaction the others lack.
/// </summary>
public static class AccountScript
{
    /// <summary>The script for <paramref name="plan"/> with <paramref name="credentials"/>.</summary>
    public static string For(AccountPlan plan, DbCredentials credentials)
    {
        var sql = new StringBuilder();
        sql.AppendLine("SET sql_log_bin = 0;");
        // No anonymous users and no root except through the Unix socket.
        sql.AppendLine("DROP USER IF EXISTS ''@'localhost', ''@'%', 'root'@'%', 'root'@'127.0.0.1', 'root'@'::1';");
        foreach (var host in plan.AppHosts)
        {
            Account(sql, DbCredentials.AppUser, host, credentials.AppPassword);
            sql.AppendLine($"GRANT SELECT, INSERT, UPDATE, DELETE ON `{plan.Database}`.* TO '{DbCredentials.AppUser}'@'{host}';");
            // Replica lag and position, to choose where to read.
            sql.AppendLine($"GRANT SLAVE MONITOR ON *.* TO '{DbCredentials.AppUser}'@'{host}';");
        }
        foreach (var host in ReplicationHosts(plan))
        {
            Account(sql, DbCredentials.ReplicationUser, host, credentials.ReplicationPassword);
            sql.AppendLine($"GRANT REPLICATION SLAVE ON *.* TO '{DbCredentials.ReplicationUser}'@'{host}';");
        }
        Account(sql, DbCredentials.AdminUser, plan.ControlHost, credentials.AdminPassword);
        sql.AppendLine($"GRANT ALL PRIVILEGES ON *.* TO '{DbCredentials.AdminUser}'@'{plan.ControlHost}' WITH GRANT OPTION;");
        return sql.ToString();
    }

    /// <summary>
    /// The db servers' addresses, plus 127.0.0.1 when they are loopback addresses: MariaDB cannot
    /// bind a replica's connection to its own address (it lacks MySQL's MASTER_BIND), so on one
    /// machine replication connections come from the kernel's default loopback source.
    /// </summary>
    public static IEnumerable<IPAddress> ReplicationHosts(AccountPlan plan) =>
        plan.DbHosts.Any(IPAddress.IsLoopback) ? plan.DbHosts.Append(IPAddress.Loopback).Distinct() : plan.DbHosts;

    private static void Account(StringBuilder sql, string user, IPAddress host, string password)
    {
        var quoted = password.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal);
        sql.AppendLine($"CREATE USER IF NOT EXISTS '{user}'@'{host}' IDENTIFIED BY '{quoted}';");
        // The password may have been regenerated since the account was made.
        sql.AppendLine($"ALTER USER '{user}'@'{host}' IDENTIFIED BY '{quoted}';");
    }
}
