using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;

namespace Foobar.MySql;

/// <summary>A command parameter: <c>@name</c> or <c>?name</c> in the SQL, or an unnamed <c>?</c> by position.</summary>
public sealed class MySqlParameter : DbParameter
{
    private string _name = "";

    /// <summary>An unnamed parameter.</summary>
    public MySqlParameter()
    {
    }

    /// <summary>A parameter named <paramref name="name"/> (with or without its @ or ?).</summary>
    public MySqlParameter(string name, object? value)
    {
        ParameterName = name;
        Value = value;
    }

    /// <inheritdoc />
    public override DbType DbType { get; set; } = DbType.Object;

    /// <inheritdoc />
    public override ParameterDirection Direction
    {
        get => ParameterDirection.Input;
        set
        {
            if (value != ParameterDirection.Input)
            {
                throw new NotSupportedException($"only input parameters are supported (got {value})");
            }
        }
    }

    /// <inheritdoc />
    public override bool IsNullable { get; set; }

    /// <inheritdoc />
    [AllowNull]
    public override string ParameterName
    {
        get => _name;
        set => _name = value ?? "";
    }

    /// <summary>The name without its prefix, as looked up in the SQL.</summary>
    internal string NormalizedName => _name.Length > 0 && (_name[0] == '@' || _name[0] == '?') ? _name[1..] : _name;

    /// <inheritdoc />
    public override int Size { get; set; }

    /// <inheritdoc />
    [AllowNull]
    public override string SourceColumn { get; set; } = "";

    /// <inheritdoc />
    public override bool SourceColumnNullMapping { get; set; }

    /// <inheritdoc />
    public override object? Value { get; set; }

    /// <inheritdoc />
    public override void ResetDbType() => DbType = DbType.Object;
}
