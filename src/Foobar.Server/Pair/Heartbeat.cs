using System.Globalization;
using System.Text;

namespace Foobar.Server.Pair;

/// <summary>
/// The load balancer pair's heartbeat datagrams (UDP, on the admin port): the standby asks
/// <c>foobar-heartbeat 1 ping NONCE</c>, a load balancer answers
/// <c>foobar-heartbeat 1 pong NONCE NAME PID HOLDS</c> (HOLDS 1 when it holds the public address).
/// Plain text, as VRRP's adverts are a few bytes: anything else is not a heartbeat and is ignored.
/// </summary>
internal static class Heartbeat
{
    /// <summary>The largest datagram either side sends or reads; a longer one is not a heartbeat.</summary>
    public const int MaxLength = 256;

    private const string Prefix = "foobar-heartbeat 1 ";

    /// <summary>One answer: who answered, as which process, and whether it holds the public address.</summary>
    public readonly record struct Pong(long Nonce, string Name, int Pid, bool Holds);

    public static int WritePing(long nonce, Span<byte> into) =>
        Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{Prefix}ping {nonce}"), into);

    public static int WritePong(Pong pong, Span<byte> into) =>
        Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{Prefix}pong {pong.Nonce} {pong.Name} {pong.Pid} {(pong.Holds ? 1 : 0)}"), into);

    /// <summary>The nonce of a ping; false for anything that is not one.</summary>
    public static bool TryReadPing(ReadOnlySpan<byte> datagram, out long nonce)
    {
        nonce = 0;
        return Fields(datagram) is ["ping", var n] && long.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out nonce);
    }

    /// <summary>A pong; false for anything that is not one.</summary>
    public static bool TryReadPong(ReadOnlySpan<byte> datagram, out Pong pong)
    {
        pong = default;
        if (Fields(datagram) is not ["pong", var n, var name, var p, var holds and ("0" or "1")]
            || !long.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var nonce)
            || !int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0)
        {
            return false;
        }
        pong = new Pong(nonce, name, pid, holds == "1");
        return true;
    }

    /// <summary>The fields after the prefix; null when the datagram does not start with it or is not printable ASCII.</summary>
    private static string[]? Fields(ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length > MaxLength || datagram.Length <= Prefix.Length)
        {
            return null;
        }
        foreach (var b in datagram)
        {
            if (b is < 0x20 or > 0x7e)
            {
                return null;
            }
        }
        var text = Encoding.ASCII.GetString(datagram);
        return text.StartsWith(Prefix, StringComparison.Ordinal) ? text[Prefix.Length..].Split(' ') : null;
    }
}
