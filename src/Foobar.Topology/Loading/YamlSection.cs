using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Foobar.Topology.Loading;

/// <summary>
/// One YAML mapping being read: typed getters that record a problem (with the node's line) instead
/// of throwing, so one load reports every mistake in the file at once.
/// </summary>
internal sealed class YamlSection
{
    private readonly YamlMappingNode _node;
    private readonly ProblemList _problems;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public YamlSection(YamlMappingNode node, string path, ProblemList problems)
    {
        _node = node;
        Path = path;
        _problems = problems;
        foreach (var (key, _) in node.Children)
        {
            if (key is YamlScalarNode { Value: { } name })
            {
                problems.Map.Add(KeyPath(name), (int)key.Start.Line, (int)key.Start.Column);
            }
        }
    }

    public string Path { get; }

    public string KeyPath(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    public IEnumerable<(string Key, YamlNode Value)> Entries()
    {
        foreach (var (key, value) in _node.Children)
        {
            if (key is YamlScalarNode { Value: { } name })
            {
                _read.Add(name);
                yield return (name, value);
            }
        }
    }

    public YamlNode? Node(string key)
    {
        _read.Add(key);
        return _node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;
    }

    public YamlSection? Section(string key)
    {
        switch (Node(key))
        {
            case null:
                return null;
            case YamlMappingNode mapping:
                return new YamlSection(mapping, KeyPath(key), _problems);
            case var other:
                _problems.Add(other, KeyPath(key), "must be a mapping of keys to values", $"write '{key}:' followed by indented 'name: value' lines");
                return null;
        }
    }

    public string? String(string key)
    {
        switch (Node(key))
        {
            case null:
                return null;
            case YamlScalarNode { Value: { Length: > 0 } value }:
                return value;
            case var other:
                _problems.Add(other, KeyPath(key), "must be a single non-empty value", $"write '{key}: <value>'");
                return null;
        }
    }

    public int? Port(string key)
    {
        var text = String(key);
        if (text is null)
        {
            return null;
        }
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535)
        {
            return port;
        }
        _problems.Add(Node(key)!, KeyPath(key), $"'{text}' is not a TCP port", "use a whole number from 1 to 65535");
        return null;
    }

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>; a problem otherwise.</summary>
    public int? Integer(string key, int min, int max)
    {
        var text = String(key);
        if (text is null)
        {
            return null;
        }
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }
        _problems.Add(Node(key)!, KeyPath(key), $"'{text}' is not a whole number from {min} to {max}", $"write a whole number from {min} to {max}");
        return null;
    }

    /// <summary><c>true</c> or <c>false</c>; a problem otherwise.</summary>
    public bool? Boolean(string key)
    {
        var text = String(key);
        return text switch
        {
            null => null,
            "true" => true,
            "false" => false,
            _ => Fail(),
        };

        bool? Fail()
        {
            _problems.Add(Node(key)!, KeyPath(key), $"'{text}' is not true or false", "write true or false");
            return null;
        }
    }

    public TimeSpan? Duration(string key)
    {
        var text = String(key);
        if (text is null)
        {
            return null;
        }
        if (DurationText.TryParse(text, out var duration) && duration > TimeSpan.Zero)
        {
            return duration;
        }
        _problems.Add(Node(key)!, KeyPath(key), $"'{text}' is not a duration", "write a positive number with a unit: 500ms, 2s, 1m");
        return null;
    }

    /// <summary>A size in bytes (<see cref="SizeText"/>); a problem when it is not one or is zero.</summary>
    public long? Size(string key)
    {
        var text = String(key);
        if (text is null)
        {
            return null;
        }
        if (SizeText.TryParse(text, out var bytes) && bytes > 0)
        {
            return bytes;
        }
        _problems.Add(Node(key)!, KeyPath(key), $"'{text}' is not a size", "write a positive whole number with an optional unit: 512k, 500MB, 2g");
        return null;
    }

    /// <summary>One of the <paramref name="choices"/> by name; a problem listing them otherwise.</summary>
    public T? Choice<T>(string key, IReadOnlyDictionary<string, T> choices, string what)
        where T : struct
    {
        var text = String(key);
        if (text is null)
        {
            return null;
        }
        if (choices.TryGetValue(text, out var value))
        {
            return value;
        }
        _problems.Add(Node(key)!, KeyPath(key), $"unknown {what} '{text}'", $"use {string.Join(" or ", choices.Keys)}");
        return null;
    }

    public List<string>? Strings(string key)
    {
        switch (Node(key))
        {
            case null:
                return null;
            case YamlSequenceNode sequence:
                var result = new List<string>();
                foreach (var item in sequence)
                {
                    if (item is YamlScalarNode { Value: { Length: > 0 } value })
                    {
                        result.Add(value);
                    }
                    else
                    {
                        _problems.Add(item, KeyPath(key), "every item must be a single value", $"write '{key}: [a, b]'");
                    }
                }
                return result;
            case YamlScalarNode { Value: { Length: > 0 } single }:
                return [single];
            case var other:
                _problems.Add(other, KeyPath(key), "must be a list", $"write '{key}: [a, b]'");
                return null;
        }
    }

    /// <summary>Reports keys of this mapping that nothing read: typos must not pass silently.</summary>
    public void RejectUnknownKeys(params string[] known)
    {
        foreach (var (key, _) in _node.Children)
        {
            if (key is YamlScalarNode { Value: { } name } && !_read.Contains(name))
            {
                var hint = known.Length == 0 ? "remove it" : $"remove it or use one of: {string.Join(", ", known)}";
                _problems.Add(key, KeyPath(name), $"unknown key '{name}'", hint);
            }
        }
    }

    public void Problem(YamlNode? at, string key, string message, string fix) =>
        _problems.Add(at ?? _node, key.Length == 0 ? Path : KeyPath(key), message, fix);
}
