using System.Security.Cryptography;
using System.Text;
using Foobar.MySql.Auth;

namespace Foobar.MySql.Tests.Protocol;

public class AuthenticationTests
{
    [Fact]
    public void Ed25519_WithAnRfc8032SeedAsThePassword_GivesTheRfcSignature()
    {
        // RFC 8032 §7.1 test 1: MariaDB's variant hashes the password where Ed25519 hashes the seed,
        // so a 32-byte seed used as the "password" must give the standard signature.
        var seed = Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");

        var signature = Ed25519Signature.Sign(seed, []);

        Assert.Equal("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
            Convert.ToHexStringLower(signature));
    }

    [Fact]
    public void NativeScramble_MatchesTheDefinition()
    {
        var scramble = Encoding.ASCII.GetBytes("abcdefghij0123456789");
        var stage1 = SHA1.HashData("pw"u8);
        var expected = SHA1.HashData([.. scramble, .. SHA1.HashData(stage1)]).Zip(stage1, (a, b) => (byte)(a ^ b)).ToArray();

        Assert.Equal(expected, AuthenticationMethods.NativeScramble("pw", scramble));
        Assert.Empty(AuthenticationMethods.NativeScramble("", scramble));
    }
}
