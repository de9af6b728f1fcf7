using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;

namespace Foobar.Db.Accounts;

/// <summary>
/// The generated passwords of the cluster's accounts, kept in one file readable by its owner only
/// (mode 0600). Every db server creates the same accounts from it; the control plane and the app
/// servers read it to connect.
/// </summary>
public sealed partial record DbCredentials(string AppPassword, string ReplicationPassword, string AdminPassword)
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
            // link(2) publishes the complete file under its name or fails because another racer's is
            // there already. File.Move(overwrite: false) checks, then renames: two racers could both
            // pass the check, and the later rename replaced passwords the earlier one already used.
            Publish.Link(temporary, file);
            File.Delete(temporary);
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

    /// <summary>Atomic creation of a file under a name that must not be replaced.</summary>
    private static partial class Publish
    {
        private const int AlreadyExists = 17; // EEXIST

        /// <summary>Gives <paramref name="existing"/>'s content the name <paramref name="name"/> too, unless <paramref name="name"/> exists (then nothing changes).</summary>
        /// <exception cref="IOException">The link failed for another reason.</exception>
        public static void Link(string existing, string name)
        {
            if (SysLink(existing, name) != 0 && Marshal.GetLastPInvokeError() is var error && error != AlreadyExists)
            {
                throw new IOException($"could not create {name}: {Marshal.GetPInvokeErrorMessage(error)}");
            }
        }

        [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int SysLink(string existing, string name);
    }
}
