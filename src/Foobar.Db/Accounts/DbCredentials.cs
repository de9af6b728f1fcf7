using System.Security.Cryptography;
using System.Text.Json;

namespace Foobar.Db.Accounts;

/// <summary>
/// The generated passwords of the cluster's accounts, kept in one file readable by its owner only
/// (mode 0600). Every db server creates the same accounts from it; the control plane and the app
/// servers read it to connect.
/// </summary>
public sealed record DbCredentials(string AppPassword, string ReplicationPassword, string AdminPassword)
{
    /// <summary>The application's account: data of the application's schema only.</summary>
    public const string AppUser = "foobar_app";

    /// <summary>The account replicas connect to their primary with.</summary>
    public const string ReplicationUser = "foobar_repl";

    /// <summary>The control plane's account (orchestrator, migrations).</summary>
    public const string AdminUser = "foobar_admin";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>
    /// Reads <paramref name="file"/>, or creates it with new random passwords. Creation is atomic:
    /// when several processes race, all of them end up with the passwords of the one that won.
    /// </summary>
    /// <exception cref="InvalidDataException">The file exists but is not a credentials file.</exception>
    public static DbCredentials LoadOrCreate(string file)
    {
        if (!File.Exists(file))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
            var fresh = new DbCredentials(NewPassword(), NewPassword(), NewPassword());
            var temporary = $"{file}.{Guid.NewGuid():N}.tmp";
            SecretFile.Write(temporary, JsonSerializer.Serialize(fresh, Json));
            try
            {
                File.Move(temporary, file, overwrite: false);
            }
            catch (IOException) when (File.Exists(file))
            {
                File.Delete(temporary);
            }
        }
        return Load(file);
    }

    /// <summary>Reads <paramref name="file"/>.</summary>
    /// <exception cref="InvalidDataException">It is not a credentials file, or others can read it.</exception>
    public static DbCredentials Load(string file)
    {
        if ((File.GetUnixFileMode(file) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0)
        {
            throw new InvalidDataException($"{file} holds database passwords but others can read it; run chmod 600 {file}");
        }
        DbCredentials? credentials;
        try
        {
            credentials = JsonSerializer.Deserialize<DbCredentials>(File.ReadAllText(file));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file} is not a database credentials file ({e.Message}); delete it to generate new passwords, then restart every db server", e);
        }
        if (credentials is null || new[] { credentials.AppPassword, credentials.ReplicationPassword, credentials.AdminPassword }.Any(string.IsNullOrEmpty))
        {
            throw new InvalidDataException($"{file} lacks a password; delete it to generate new passwords, then restart every db server");
        }
        return credentials;
    }

    /// <summary>32 random characters from [A-Za-z0-9]: 190 bits, nothing to quote in SQL or a connection string.</summary>
    private static string NewPassword() =>
        RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 32);
}
