namespace Foobar.Topology.Loading;

/// <summary>One thing wrong with a topology file: where, what, and how to fix it.</summary>
/// <param name="File">Path of the file, as given.</param>
/// <param name="Line">1-based line, or 0 when unknown.</param>
/// <param name="Column">1-based column, or 0 when unknown.</param>
/// <param name="Key">Dotted key path (<c>servers.web1.address</c>); empty for the whole file.</param>
/// <param name="Message">What is wrong.</param>
/// <param name="Fix">What to change.</param>
public sealed record TopologyProblem(string File, int Line, int Column, string Key, string Message, string Fix)
{
    /// <summary><c>file:line:col: key: message (fix: ...)</c>, the shape compilers use.</summary>
    public override string ToString()
    {
        var where = Line > 0 ? $"{File}:{Line}:{Column}" : File;
        var key = Key.Length > 0 ? $" {Key}:" : "";
        return $"{where}:{key} {Message}. Fix: {Fix}";
    }
}
