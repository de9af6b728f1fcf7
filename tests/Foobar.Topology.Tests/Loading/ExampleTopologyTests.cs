using Foobar.Topology.Loading;

namespace Foobar.Topology.Tests.Loading;

public class ExampleTopologyTests
{
    public static TheoryData<string> Examples()
    {
        var data = new TheoryData<string>();
        var dir = Path.GetDirectoryName(TopologyText.RepositoryFile("foobar.yaml"))!;
        foreach (var file in Directory.GetFiles(Path.Combine(dir, "examples"), "*.yaml").Order())
        {
            data.Add(Path.GetFileName(file));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Load_Example_IsValidWithASiteRootAndARangeOfItsOwn(string name)
    {
        var path = Path.Combine(Path.GetDirectoryName(TopologyText.RepositoryFile("foobar.yaml"))!, "examples", name);

        var topology = TopologyLoader.Load(path);

        Assert.True(Directory.Exists(topology.WebRootPath), topology.WebRootPath);
        Assert.NotEqual("127.10.0.0/24", topology.Range.ToString());
        Assert.StartsWith("# Seed " + name.Substring(5, 3), File.ReadAllText(path));
    }

    [Fact]
    public void Examples_OnePerSeed_OnDistinctRanges()
    {
        var dir = Path.Combine(Path.GetDirectoryName(TopologyText.RepositoryFile("foobar.yaml"))!, "examples");
        var ranges = Directory.GetFiles(dir, "*.yaml").Select(f => TopologyLoader.Load(f).Range.ToString()).ToList();

        Assert.Equal(5, ranges.Count);
        Assert.Equal(ranges.Count, ranges.Distinct().Count());
    }
}
