using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Foobar.Topology.Loading;

/// <summary>Problems collected while loading one file, with the file's <see cref="SourceMap"/>.</summary>
internal sealed class ProblemList(string file)
{
    private readonly List<TopologyProblem> _items = [];

    public string File { get; } = file;

    public SourceMap Map { get; } = new();

    public IReadOnlyList<TopologyProblem> Items => _items;

    public void Add(YamlNode at, string key, string message, string fix) => Add(at.Start, key, message, fix);

    public void Add(Mark at, string key, string message, string fix) =>
        _items.Add(new TopologyProblem(File, (int)at.Line, (int)at.Column, key, message, fix));

    /// <summary>A problem found after parsing, located through the source map by key path.</summary>
    public void Add(string key, string message, string fix)
    {
        var (line, column) = Map.Find(key);
        _items.Add(new TopologyProblem(File, line, column, key, message, fix));
    }

    public void AddAtStart(string message, string fix) => _items.Add(new TopologyProblem(File, 0, 0, "", message, fix));
}
