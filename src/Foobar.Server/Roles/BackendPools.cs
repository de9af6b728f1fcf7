using Foobar.Http.Backends;
using Foobar.Http.LoadBalancing;
using Foobar.Topology;

namespace Foobar.Server.Roles;

/// <summary>The pool of the servers of one role, as seen by the tier in front of it.</summary>
internal static class BackendPools
{
    public static BackendPool For(Topology.Topology topology, Role role) => new(
        topology.ServersWith(role).Select(s => new Backend(s.Name, new Uri($"http://{s.Address}:{topology.PortOf(role)}/"))).ToList(),
        new RoundRobinPolicy());

    public static string Describe(BackendPool pool) =>
        string.Join(", ", pool.Backends.Select(b => b.State == BackendState.Up ? b.Name : $"{b.Name} (down)"));
}
