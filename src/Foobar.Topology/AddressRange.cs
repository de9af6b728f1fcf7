using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;

namespace Foobar.Topology;

/// <summary>An IPv4 block in CIDR notation (<c>127.10.0.0/24</c>) that a topology's addresses come from.</summary>
public sealed record AddressRange
{
    private AddressRange(uint network, int prefixLength)
    {
        Network = network;
        PrefixLength = prefixLength;
    }

    /// <summary>First address of the block, as a host-order integer.</summary>
    public uint Network { get; }

    /// <summary>Number of leading bits that are fixed.</summary>
    public int PrefixLength { get; }

    /// <summary>Number of usable host addresses (network and broadcast excluded).</summary>
    public long HostCount => Math.Max(0, (1L << (32 - PrefixLength)) - 2);

    /// <summary>Parses <c>a.b.c.d/n</c>; the address part must be the block's first address.</summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out AddressRange? range, out string error)
    {
        range = null;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            error = $"'{text}' is not in CIDR notation; write it like 127.10.0.0/24";
            return false;
        }
        if (!IPAddress.TryParse(text.AsSpan(0, slash), out var address) || address.AddressFamily != AddressFamily.InterNetwork)
        {
            error = $"'{text[..slash]}' is not an IPv4 address";
            return false;
        }
        if (!int.TryParse(text.AsSpan(slash + 1), out var prefix) || prefix is < 1 or > 30)
        {
            error = $"prefix length '{text[(slash + 1)..]}' must be a number from 1 to 30";
            return false;
        }
        var value = ToUInt32(address);
        var mask = uint.MaxValue << (32 - prefix);
        if ((value & mask) != value)
        {
            error = $"'{text}' has host bits set; the block starts at {FromUInt32(value & mask)}/{prefix}";
            return false;
        }
        range = new AddressRange(value, prefix);
        error = "";
        return true;
    }

    /// <summary>Parses or throws <see cref="FormatException"/>.</summary>
    public static AddressRange Parse(string text) =>
        TryParse(text, out var range, out var error) ? range : throw new FormatException(error);

    /// <summary>Whether <paramref name="address"/> is a usable host address of this block.</summary>
    public bool Contains(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            return false;
        }
        var offset = (long)ToUInt32(address) - Network;
        return offset >= 1 && offset <= HostCount;
    }

    /// <summary>The <paramref name="index"/>-th host address, from 1.</summary>
    public IPAddress Host(long index)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(index, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, HostCount);
        return FromUInt32((uint)(Network + index));
    }

    /// <inheritdoc />
    public override string ToString() => $"{FromUInt32(Network)}/{PrefixLength}";

    internal static uint ToUInt32(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    internal static IPAddress FromUInt32(uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return new IPAddress(bytes);
    }
}
