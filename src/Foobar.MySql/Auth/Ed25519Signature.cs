using System.Numerics;
using System.Security.Cryptography;

namespace Foobar.MySql.Auth;

/// <summary>
/// MariaDB's <c>client_ed25519</c>: an Ed25519 signature of the server's 32-byte scramble where the
/// secret is the password itself (SHA-512 of the password replaces the usual 32-byte seed's hash).
/// BigInteger arithmetic: slow next to a native implementation (milliseconds), which is fine for
/// one signature per connection, and it keeps the client free of native dependencies.
/// </summary>
internal static class Ed25519Signature
{
    private static readonly BigInteger P = BigInteger.Pow(2, 255) - 19;
    private static readonly BigInteger L = BigInteger.Pow(2, 252) + BigInteger.Parse("27742317777372353535851937790883648493", System.Globalization.CultureInfo.InvariantCulture);
    private static readonly BigInteger D = Mod(-121665 * Inverse(121666));
    private static readonly BigInteger SqrtMinusOne = BigInteger.ModPow(2, (P - 1) / 4, P);
    private static readonly Point B = BasePoint();

    public static byte[] Sign(byte[] password, ReadOnlySpan<byte> message)
    {
        var az = SHA512.HashData(password);
        var scalar = az[..32];
        scalar[0] &= 248;
        scalar[31] &= 127;
        scalar[31] |= 64;
        var a = FromLittleEndian(scalar);
        var publicKey = Encode(Multiply(B, a));
        var r = Mod(FromLittleEndian(SHA512.HashData([.. az[32..], .. message])), L);
        var encodedR = Encode(Multiply(B, r));
        var k = Mod(FromLittleEndian(SHA512.HashData([.. encodedR, .. publicKey, .. message])), L);
        var s = Mod(r + k * a, L);
        return [.. encodedR, .. ToLittleEndian(s)];
    }

    private readonly record struct Point(BigInteger X, BigInteger Y, BigInteger Z, BigInteger T);

    private static Point Add(Point p, Point q)
    {
        var a = Mod((p.Y - p.X) * (q.Y - q.X));
        var b = Mod((p.Y + p.X) * (q.Y + q.X));
        var c = Mod(2 * p.T * q.T * D);
        var d = Mod(2 * p.Z * q.Z);
        var e = b - a;
        var f = d - c;
        var g = d + c;
        var h = b + a;
        return new Point(Mod(e * f), Mod(g * h), Mod(f * g), Mod(e * h));
    }

    private static Point Multiply(Point p, BigInteger scalar)
    {
        var result = new Point(0, 1, 1, 0);
        while (scalar > 0)
        {
            if (!scalar.IsEven)
            {
                result = Add(result, p);
            }
            p = Add(p, p);
            scalar >>= 1;
        }
        return result;
    }

    private static byte[] Encode(Point p)
    {
        var zInverse = Inverse(p.Z);
        var x = Mod(p.X * zInverse);
        var y = Mod(p.Y * zInverse);
        var bytes = ToLittleEndian(y);
        if (!x.IsEven)
        {
            bytes[31] |= 0x80;
        }
        return bytes;
    }

    private static Point BasePoint()
    {
        var y = Mod(4 * Inverse(5));
        var xx = Mod((y * y - 1) * Inverse(D * y * y + 1));
        var x = BigInteger.ModPow(xx, (P + 3) / 8, P);
        if (Mod(x * x - xx) != 0)
        {
            x = Mod(x * SqrtMinusOne);
        }
        if (!x.IsEven)
        {
            x = P - x;
        }
        return new Point(x, y, 1, Mod(x * y));
    }

    private static BigInteger Mod(BigInteger value) => Mod(value, P);

    private static BigInteger Mod(BigInteger value, BigInteger modulus)
    {
        var result = BigInteger.Remainder(value, modulus);
        return result.Sign < 0 ? result + modulus : result;
    }

    private static BigInteger Inverse(BigInteger value) => BigInteger.ModPow(Mod(value), P - 2, P);

    private static BigInteger FromLittleEndian(ReadOnlySpan<byte> bytes) => new(bytes, isUnsigned: true, isBigEndian: false);

    private static byte[] ToLittleEndian(BigInteger value)
    {
        var bytes = new byte[32];
        value.TryWriteBytes(bytes, out _, isUnsigned: true, isBigEndian: false);
        return bytes;
    }
}
