using Foobar.MySql.Core;

namespace Foobar.MySql.Tests.Protocol;

public class SqlFormatterTests
{
    private static string Format(string sql, bool noBackslash, params (string Name, object? Value)[] parameters)
    {
        var collection = new MySqlParameterCollection();
        foreach (var (name, value) in parameters)
        {
            collection.Add(new MySqlParameter(name, value));
        }
        return SqlFormatter.Format(sql, collection, noBackslash);
    }

    [Theory]
    [InlineData(false, "SELECT 'it''s \\\\ \\0'")]
    [InlineData(true, "SELECT 'it''s \\ \0'")]
    public void String_IsEscapedForTheSessionsMode(bool noBackslash, string expected)
    {
        Assert.Equal(expected, Format("SELECT @s", noBackslash, ("@s", "it's \\ \0")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void String_ForAModeNotYetKnown_ReadsTheSameInBoth(bool assumedNoBackslash)
    {
        var collection = new MySqlParameterCollection { new MySqlParameter("@s", "it's \0 \u001A") };

        Assert.Equal("SELECT 'it''s \0 \u001A'", SqlFormatter.Format("SELECT @s", collection, assumedNoBackslash, modeKnown: false));
    }

    [Fact]
    public void String_WithABackslash_NeedsTheModeKnown()
    {
        var collection = new MySqlParameterCollection { new MySqlParameter("@s", "a\\b"), new MySqlParameter("@n", 1) };

        Assert.True(SqlFormatter.NeedsKnownMode(collection));
        Assert.False(SqlFormatter.NeedsKnownMode([new MySqlParameter("@s", "it's")]));
        Assert.Throws<InvalidOperationException>(() => SqlFormatter.Format("SELECT @s", collection, false, modeKnown: false));
    }

    [Fact]
    public void Values_BecomeLiterals()
    {
        var sql = Format("SELECT @a, @b, @c, @d, @e, @f, @g", false,
            ("a", null), ("b", true), ("c", 1.5m), ("d", new byte[] { 0xDE, 0xAD }), ("e", new DateTime(2026, 1, 2, 3, 4, 5)),
            ("f", Guid.Empty), ("g", TimeSpan.FromHours(-30)));

        Assert.Equal("SELECT NULL, 1, 1.5, X'DEAD', '2026-01-02 03:04:05.000000', '00000000-0000-0000-0000-000000000000', '-30:00:00.000000'", sql);
    }

    [Fact]
    public void NonFiniteDouble_IsRefused()
    {
        Assert.Throws<NotSupportedException>(() => Format("SELECT @x", false, ("x", double.NaN)));
    }

    [Theory]
    [InlineData("SELECT '@p'")]
    [InlineData("SELECT \"@p\"")]
    [InlineData("SELECT `@p`")]
    [InlineData("SELECT 1 -- @p")]
    [InlineData("SELECT 1 # @p")]
    [InlineData("SELECT /* @p */ 1")]
    [InlineData("SELECT @@p")]
    [InlineData("SELECT 'a\\'@p'")]
    public void Placeholders_InQuotesCommentsAndSystemVariables_AreUntouched(string sql)
    {
        Assert.Equal(sql, Format(sql, false, ("p", 1)));
    }

    [Fact]
    public void DoubleDash_WithoutSpace_IsMinusMinusNotAComment()
    {
        Assert.Equal("SELECT 1--5", Format("SELECT 1--@p", false, ("p", 5)));
    }
}
