namespace Foobar.Topology.Loading;

/// <summary>Where each key path of a loaded file was written, so later checks can point at lines.</summary>
internal sealed class SourceMap
{
    private readonly Dictionary<string, (int Line, int Column)> _positions = new(StringComparer.Ordinal);

    public void Add(string key, int line, int column) => _positions.TryAdd(key, (line, column));

    /// <summary>The position of <paramref name="key"/>, or of its nearest written parent.</summary>
    public (int Line, int Column) Find(string key)
    {
        for (var path = key; path.Length > 0; path = Parent(path))
        {
            if (_positions.TryGetValue(path, out var position))
            {
                return position;
            }
        }
        return (0, 0);
    }

    private static string Parent(string path)
    {
        var dot = path.LastIndexOf('.');
        return dot < 0 ? "" : path[..dot];
    }
}
