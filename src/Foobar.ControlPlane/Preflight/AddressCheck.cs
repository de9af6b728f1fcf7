using System.Net;
using System.Net.Sockets;
using Foobar.Topology;

namespace Foobar.ControlPlane.Preflight;

/// <summary>
/// Before <c>up</c>: every address and port the topology will bind must be free, so a clash is one
/// clear error naming the server and the port instead of a server crash-looping in the background.
/// </summary>
public static class AddressCheck
{
    /// <summary>One sentence per endpoint that cannot be bound; empty when all can.</summary>
    /// <param name="topology">The topology to start.</param>
    /// <param name="only">Check only these servers' endpoints (servers a reload adds); null: every endpoint, the public address too.</param>
    public static IReadOnlyList<string> FindConflicts(Topology.Topology topology, IReadOnlyCollection<ServerSpec>? only = null)
    {
        var conflicts = new List<string>();
        foreach (var (endPoint, owner) in EndPoints(topology, only))
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(endPoint);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                conflicts.Add($"{endPoint} ({owner}) is already in use by another process: stop it, or move this topology to a free range (network.range)");
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressNotAvailable)
            {
                conflicts.Add($"{endPoint} ({owner}) is not an address of this machine: on one machine use a loopback range such as 127.10.0.0/24");
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
            {
                conflicts.Add($"{endPoint} ({owner}) needs privileges to bind (port below 1024): run as root, or choose ports above 1024 in the topology");
            }
        }
        return conflicts;
    }

    private static IEnumerable<(IPEndPoint, string)> EndPoints(Topology.Topology topology, IReadOnlyCollection<ServerSpec>? only)
    {
        if (only is null)
        {
            yield return (new IPEndPoint(topology.Public.Address, topology.Public.HttpPort), "the public address");
        }
        foreach (var server in only ?? topology.Servers)
        {
            yield return (topology.AdminEndPoint(server), $"{server.Name}, admin");
            foreach (var role in server.Roles.Where(r => r is Role.Lb or Role.Web or Role.App))
            {
                yield return (new IPEndPoint(server.Address, topology.PortOf(role)), $"{server.Name}, {role.Name()}");
            }
        }
    }
}
