using System.Security.Cryptography;
using System.Text;

namespace Foobar.MySql.Auth;

/// <summary>
/// Scrambles for the password-based authentication methods
/// (https://mariadb.com/kb/en/connection/#authentication-plugins).
/// </summary>
internal static class AuthenticationMethods
{
    public const string NativePassword = "mysql_native_password";
    public const string CachingSha2Password = "caching_sha2_password";
    public const string Ed25519 = "client_ed25519";
    public const string ClearPassword = "mysql_clear_password";

    /// <summary>The first response for <paramref name="plugin"/>, or null when this client does not implement it.</summary>
    public static byte[]? InitialResponse(string plugin, string password, ReadOnlySpan<byte> scramble) => plugin switch
    {
        NativePassword => NativeScramble(password, scramble),
        CachingSha2Password => Sha2Scramble(password, scramble),
        Ed25519 => Ed25519Signature.Sign(Encoding.UTF8.GetBytes(password), scramble[..Math.Min(32, scramble.Length)]),
        _ => null,
    };

    /// <summary>SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))); empty for an empty password.</summary>
    public static byte[] NativeScramble(string password, ReadOnlySpan<byte> scramble)
    {
        if (password.Length == 0)
        {
            return [];
        }
        var hash1 = SHA1.HashData(Encoding.UTF8.GetBytes(password));
        var hash2 = SHA1.HashData(hash1);
        var salted = SHA1.HashData([.. scramble[..Math.Min(20, scramble.Length)], .. hash2]);
        for (var i = 0; i < hash1.Length; i++)
        {
            hash1[i] ^= salted[i];
        }
        return hash1;
    }

    /// <summary>SHA256(password) XOR SHA256(SHA256(SHA256(password)) + scramble); empty for an empty password.</summary>
    public static byte[] Sha2Scramble(string password, ReadOnlySpan<byte> scramble)
    {
        if (password.Length == 0)
        {
            return [];
        }
        var hash1 = SHA256.HashData(Encoding.UTF8.GetBytes(password));
        var hash2 = SHA256.HashData(hash1);
        var salted = SHA256.HashData([.. hash2, .. scramble[..Math.Min(20, scramble.Length)]]);
        for (var i = 0; i < hash1.Length; i++)
        {
            hash1[i] ^= salted[i];
        }
        return hash1;
    }

    /// <summary>The password for caching_sha2's full authentication over RSA: (password + NUL) XOR scramble, OAEP-encrypted.</summary>
    public static byte[] RsaEncryptPassword(string password, ReadOnlySpan<byte> scramble, string publicKeyPem)
    {
        var plain = Encoding.UTF8.GetBytes(password + "\0");
        for (var i = 0; i < plain.Length; i++)
        {
            plain[i] ^= scramble[i % Math.Min(20, scramble.Length)];
        }
        using var rsa = RSA.Create();
        rsa.ImportFromPem(publicKeyPem);
        return rsa.Encrypt(plain, RSAEncryptionPadding.OaepSHA1);
    }
}
