using System.Text.RegularExpressions;

namespace Foobar.Topology;

/// <summary>Server names are host names: they appear in X-Served-By, file names and DNS.</summary>
public static partial class ServerNames
{
    /// <summary>The rule, worded for error messages.</summary>
    public const string Rule = "use lower-case letters, digits and '-', starting with a letter, at most 63 characters (like web1)";

    /// <summary>Whether <paramref name="name"/> follows <see cref="Rule"/>.</summary>
    public static bool IsValid(string name) => name.Length <= 63 && Pattern().IsMatch(name);

    [GeneratedRegex("^[a-z][a-z0-9-]*$")]
    private static partial Regex Pattern();
}
