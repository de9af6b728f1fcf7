using System.Collections;
using System.Data.Common;

namespace Foobar.MySql;

/// <summary>The parameters of a <see cref="MySqlCommand"/>.</summary>
public sealed class MySqlParameterCollection : DbParameterCollection
{
    private readonly List<MySqlParameter> _items = [];

    /// <inheritdoc />
    public override int Count => _items.Count;

    /// <inheritdoc />
    public override object SyncRoot => _items;

    /// <summary>Adds a parameter with a value; returns it.</summary>
    public MySqlParameter AddWithValue(string name, object? value)
    {
        var parameter = new MySqlParameter(name, value);
        _items.Add(parameter);
        return parameter;
    }

    /// <inheritdoc />
    public override int Add(object value)
    {
        _items.Add(Cast(value));
        return _items.Count - 1;
    }

    /// <inheritdoc />
    public override void AddRange(Array values)
    {
        foreach (var value in values)
        {
            Add(value!);
        }
    }

    /// <inheritdoc />
    public override void Clear() => _items.Clear();

    /// <inheritdoc />
    public override bool Contains(object value) => value is MySqlParameter p && _items.Contains(p);

    /// <inheritdoc />
    public override bool Contains(string value) => IndexOf(value) >= 0;

    /// <inheritdoc />
    public override void CopyTo(Array array, int index) => ((ICollection)_items).CopyTo(array, index);

    /// <inheritdoc />
    public override IEnumerator GetEnumerator() => _items.GetEnumerator();

    /// <inheritdoc />
    public override int IndexOf(object value) => value is MySqlParameter p ? _items.IndexOf(p) : -1;

    /// <inheritdoc />
    public override int IndexOf(string parameterName)
    {
        var name = parameterName.Length > 0 && (parameterName[0] == '@' || parameterName[0] == '?') ? parameterName[1..] : parameterName;
        return _items.FindIndex(p => string.Equals(p.NormalizedName, name, StringComparison.OrdinalIgnoreCase));
    }

    /// <inheritdoc />
    public override void Insert(int index, object value) => _items.Insert(index, Cast(value));

    /// <inheritdoc />
    public override void Remove(object value) => _items.Remove(Cast(value));

    /// <inheritdoc />
    public override void RemoveAt(int index) => _items.RemoveAt(index);

    /// <inheritdoc />
    public override void RemoveAt(string parameterName) => _items.RemoveAt(IndexOf(parameterName));

    /// <summary>The parameter at <paramref name="index"/>.</summary>
    public new MySqlParameter this[int index] => _items[index];

    internal MySqlParameter? Find(string normalizedName)
    {
        foreach (var parameter in _items)
        {
            if (string.Equals(parameter.NormalizedName, normalizedName, StringComparison.OrdinalIgnoreCase))
            {
                return parameter;
            }
        }
        return null;
    }

    internal IReadOnlyList<MySqlParameter> Items => _items;

    /// <inheritdoc />
    protected override DbParameter GetParameter(int index) => _items[index];

    /// <inheritdoc />
    protected override DbParameter GetParameter(string parameterName) =>
        IndexOf(parameterName) is var i and >= 0 ? _items[i] : throw new ArgumentException($"no parameter '{parameterName}'", nameof(parameterName));

    /// <inheritdoc />
    protected override void SetParameter(int index, DbParameter value) => _items[index] = Cast(value);

    /// <inheritdoc />
    protected override void SetParameter(string parameterName, DbParameter value)
    {
        var index = IndexOf(parameterName);
        if (index < 0)
        {
            _items.Add(Cast(value));
        }
        else
        {
            _items[index] = Cast(value);
        }
    }

    private static MySqlParameter Cast(object value) =>
        value as MySqlParameter ?? throw new ArgumentException($"expected a MySqlParameter, got {value?.GetType().Name ?? "null"}", nameof(value));
}
