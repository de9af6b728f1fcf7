using System.Data.Common;
using System.Globalization;

namespace Foobar.MySql;

/// <summary>
/// Connection string keys. Names follow MySqlConnector's so existing strings work:
/// <c>Server=127.0.0.1;Port=3306;User ID=app;Password=...;Database=foobar;SslMode=Preferred</c>.
/// </summary>
public sealed class MySqlConnectionStringBuilder : DbConnectionStringBuilder
{
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Host"] = "Server", ["Data Source"] = "Server", ["Address"] = "Server",
        ["User"] = "User ID", ["Username"] = "User ID", ["Uid"] = "User ID", ["User Name"] = "User ID",
        ["Pwd"] = "Password",
        ["Initial Catalog"] = "Database",
        ["Ssl Mode"] = "SslMode", ["Ssl-Mode"] = "SslMode",
        ["Connect Timeout"] = "Connection Timeout", ["ConnectionTimeout"] = "Connection Timeout",
        ["Command Timeout"] = "Default Command Timeout", ["DefaultCommandTimeout"] = "Default Command Timeout",
        ["Max Pool Size"] = "Maximum Pool Size", ["MaxPoolSize"] = "Maximum Pool Size",
        ["Min Pool Size"] = "Minimum Pool Size", ["MinPoolSize"] = "Minimum Pool Size",
        ["ConnectionIdleTimeout"] = "Connection Idle Timeout",
        ["ConnectionLifeTime"] = "Connection Lifetime",
        ["ConnectionReset"] = "Connection Reset",
        ["AllowPublicKeyRetrieval"] = "Allow Public Key Retrieval",
        ["TrackGtid"] = "Track Gtid",
        ["LocalAddress"] = "Local Address", ["Source Address"] = "Local Address",
    };

    /// <summary>An empty builder.</summary>
    public MySqlConnectionStringBuilder()
    {
    }

    /// <summary>A builder parsing <paramref name="connectionString"/>.</summary>
    public MySqlConnectionStringBuilder(string connectionString)
    {
        ConnectionString = connectionString;
    }

    /// <summary>Host name or address. Default <c>localhost</c>.</summary>
    public string Server { get => Get("Server", "localhost"); set => this["Server"] = value; }

    /// <summary>TCP port. Default 3306.</summary>
    public int Port { get => GetInt("Port", 3306); set => this["Port"] = value; }

    /// <summary>User name.</summary>
    public string UserID { get => Get("User ID", ""); set => this["User ID"] = value; }

    /// <summary>Password.</summary>
    public string Password { get => Get("Password", ""); set => this["Password"] = value; }

    /// <summary>Default schema; empty for none.</summary>
    public string Database { get => Get("Database", ""); set => this["Database"] = value; }

    /// <summary>TLS mode. Default <see cref="MySqlSslMode.Preferred"/>, as MariaDB's own client.</summary>
    public MySqlSslMode SslMode { get => Enum.Parse<MySqlSslMode>(Get("SslMode", nameof(MySqlSslMode.Preferred)), ignoreCase: true); set => this["SslMode"] = value.ToString(); }

    /// <summary>PEM file of the CA that must sign the server's certificate (VerifyCA, VerifyFull).</summary>
    public string SslCa { get => Get("SslCa", ""); set => this["SslCa"] = value; }

    /// <summary>
    /// Whether caching_sha2_password may ask the server for its RSA key over an unencrypted connection.
    /// Default false: an attacker in the middle could hand over its own key and learn the password.
    /// </summary>
    public bool AllowPublicKeyRetrieval { get => GetBool("Allow Public Key Retrieval", false); set => this["Allow Public Key Retrieval"] = value; }

    /// <summary>Seconds to open a connection (TCP, TLS, authentication). Default 15, MySqlConnector's.</summary>
    public int ConnectionTimeout { get => GetInt("Connection Timeout", 15); set => this["Connection Timeout"] = value; }

    /// <summary>Seconds a command may run before it is cancelled on the server; 0 for none. Default 30, ADO.NET's.</summary>
    public int DefaultCommandTimeout { get => GetInt("Default Command Timeout", 30); set => this["Default Command Timeout"] = value; }

    /// <summary>Whether connections are pooled. Default true.</summary>
    public bool Pooling { get => GetBool("Pooling", true); set => this["Pooling"] = value; }

    /// <summary>Most connections a pool opens. Default 100.</summary>
    public int MaximumPoolSize { get => GetInt("Maximum Pool Size", 100); set => this["Maximum Pool Size"] = value; }

    /// <summary>Idle connections a pool keeps open. Default 0.</summary>
    public int MinimumPoolSize { get => GetInt("Minimum Pool Size", 0); set => this["Minimum Pool Size"] = value; }

    /// <summary>Seconds an idle pooled connection lives. Default 180, MySqlConnector's.</summary>
    public int ConnectionIdleTimeout { get => GetInt("Connection Idle Timeout", 180); set => this["Connection Idle Timeout"] = value; }

    /// <summary>Seconds after which a pooled connection is closed instead of reused; 0 for no limit. Default 0.</summary>
    public int ConnectionLifetime { get => GetInt("Connection Lifetime", 0); set => this["Connection Lifetime"] = value; }

    /// <summary>Whether a connection returned to the pool is reset (COM_RESET_CONNECTION). Default true: no session state leaks between users.</summary>
    public bool ConnectionReset { get => GetBool("Connection Reset", true); set => this["Connection Reset"] = value; }

    /// <summary>Whether the server reports the GTID of each write (<see cref="MySqlConnection.LastGtid"/>). Default true.</summary>
    public bool TrackGtid { get => GetBool("Track Gtid", true); set => this["Track Gtid"] = value; }

    /// <summary>
    /// Local address the connection is made from (bind before connect); empty lets the kernel choose.
    /// Accounts restricted to a host (<c>'app'@'127.10.0.7'</c>) need it on a machine where every
    /// server shares the loopback interface.
    /// </summary>
    public string LocalAddress { get => Get("Local Address", ""); set => this["Local Address"] = value; }

    /// <inheritdoc />
    [System.Diagnostics.CodeAnalysis.AllowNull]
    public override object this[string keyword]
    {
        get => base[Canonical(keyword)];
        set => base[Canonical(keyword)] = value;
    }

    /// <inheritdoc />
    public override bool ContainsKey(string keyword) => base.ContainsKey(Canonical(keyword));

    /// <inheritdoc />
    public override bool Remove(string keyword) => base.Remove(Canonical(keyword));

    /// <inheritdoc />
    public override bool TryGetValue(string keyword, out object value) => base.TryGetValue(Canonical(keyword), out value!);

    /// <summary>Checks every value; throws <see cref="ArgumentException"/> naming the key and the fix.</summary>
    internal void Validate()
    {
        Check(() => SslMode, "SslMode", "use None, Preferred, Required, VerifyCA or VerifyFull");
        foreach (var (key, min) in new[] { ("Port", 1), ("Connection Timeout", 1), ("Default Command Timeout", 0), ("Maximum Pool Size", 1), ("Minimum Pool Size", 0), ("Connection Idle Timeout", 0), ("Connection Lifetime", 0) })
        {
            Check(() => GetInt(key, min) < min ? throw new FormatException() : 0, key, $"use a whole number of at least {min}");
        }
        if (Port > 65535)
        {
            throw new ArgumentException($"connection string: Port={Port} is not a TCP port; use 1 to 65535");
        }
        if (LocalAddress.Length > 0 && !System.Net.IPAddress.TryParse(LocalAddress, out _))
        {
            throw new ArgumentException($"connection string: Local Address={LocalAddress} is not an IP address; write one of this host's addresses, like 127.10.0.7");
        }
        if (MinimumPoolSize > MaximumPoolSize)
        {
            throw new ArgumentException($"connection string: Minimum Pool Size ({MinimumPoolSize}) is larger than Maximum Pool Size ({MaximumPoolSize})");
        }
        foreach (var key in new[] { "Pooling", "Connection Reset", "Track Gtid", "Allow Public Key Retrieval" })
        {
            Check(() => GetBool(key, false), key, "use true or false");
        }
    }

    private void Check<T>(Func<T> read, string key, string fix)
    {
        try
        {
            read();
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
        {
            throw new ArgumentException($"connection string: {key}={(TryGetValue(key, out var v) ? v : "")} is not valid; {fix}", e);
        }
    }

    private static string Canonical(string keyword) => Aliases.TryGetValue(keyword, out var canonical) ? canonical : keyword;

    private string Get(string key, string fallback) => TryGetValue(key, out var value) ? Convert.ToString(value, CultureInfo.InvariantCulture) ?? fallback : fallback;

    private int GetInt(string key, int fallback) => TryGetValue(key, out var value) ? Convert.ToInt32(value, CultureInfo.InvariantCulture) : fallback;

    private bool GetBool(string key, bool fallback)
    {
        if (!TryGetValue(key, out var value))
        {
            return fallback;
        }
        return Convert.ToString(value, CultureInfo.InvariantCulture)?.ToLowerInvariant() switch
        {
            "true" or "yes" or "1" => true,
            "false" or "no" or "0" => false,
            var other => throw new FormatException($"'{other}' is not a boolean"),
        };
    }
}
