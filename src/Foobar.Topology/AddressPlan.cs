using System.Net;

namespace Foobar.Topology;

/// <summary>
/// Gives every server without an explicit address one from the range, so a topology file can omit
/// addresses and be moved to another range (two infrastructures side by side) by changing one line.
/// </summary>
/// <remarks>
/// The public address defaults to the first host of the range and the control plane has the last;
/// servers without an address get
/// the next free ones in file order. Explicit addresses are never moved; the plan only fills gaps,
/// so adding a server at the end of the file does not renumber the others.
/// </remarks>
public static class AddressPlan
{
    /// <summary>The public address: <paramref name="explicitAddress"/> or the range's first host.</summary>
    public static IPAddress PublicAddress(AddressRange range, IPAddress? explicitAddress) =>
        explicitAddress ?? range.Host(1);

    /// <summary>
    /// The control plane's address: the range's last host. The control plane connects to the
    /// servers from it, so the database's admin account can be limited to it.
    /// </summary>
    public static IPAddress ControlAddress(AddressRange range) => range.Host(range.HostCount);

    /// <summary>
    /// Addresses for <paramref name="requested"/> (null = assign), in the same order. Returns null
    /// entries where the range has run out; validation reports those.
    /// </summary>
    public static IReadOnlyList<IPAddress?> Assign(AddressRange range, IPAddress publicAddress, IReadOnlyList<IPAddress?> requested)
    {
        var taken = new HashSet<IPAddress>(requested.Where(a => a is not null)!) { publicAddress, ControlAddress(range) };
        var result = new IPAddress?[requested.Count];
        long next = 1;
        for (var i = 0; i < requested.Count; i++)
        {
            if (requested[i] is { } explicitAddress)
            {
                result[i] = explicitAddress;
                continue;
            }
            while (next <= range.HostCount && taken.Contains(range.Host(next)))
            {
                next++;
            }
            if (next > range.HostCount)
            {
                continue;
            }
            result[i] = range.Host(next);
            taken.Add(result[i]!);
        }
        return result;
    }
}
