using Foobar.Http.Backends;

namespace Foobar.Http.Tests.LoadBalancing;

/// <summary>Backends that are never connected to: the policies only read their names, weights and load.</summary>
internal static class Backends
{
    public static Backend[] Named(params string[] names) => names.Select(n => new Backend(n, new Uri($"http://{n}/"))).ToArray();

    public static Backend Weighted(string name, int weight) => new(name, new Uri($"http://{name}/"), weight: weight);

    public static void Busy(Backend backend, int requests)
    {
        for (var i = 0; i < requests; i++)
        {
            backend.BeginRequest();
        }
    }
}
