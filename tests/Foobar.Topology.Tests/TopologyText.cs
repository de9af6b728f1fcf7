using Foobar.Topology.Loading;

namespace Foobar.Topology.Tests;

/// <summary>Builds topology YAML for tests: a valid minimal base that tests change one part of.</summary>
internal static class TopologyText
{
    public const string Valid = """
        domain: foobar.com
        network: { range: 127.10.0.0/24 }
        servers:
          lb1: { roles: [lb] }
          web1: { roles: [web] }
          app1: { roles: [app] }
        """;

    public static Topology Parse(string yaml) => TopologyLoader.Parse(yaml, "test.yaml", "/srv/foobar");

    public static TopologyProblem SingleProblem(string yaml)
    {
        var e = Assert.Throws<TopologyException>(() => Parse(yaml));
        return Assert.Single(e.Problems);
    }

    public static string RepositoryFile(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, name);
            if (File.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "Foobar.slnx")))
            {
                return candidate;
            }
        }
        throw new FileNotFoundException(name);
    }
}
