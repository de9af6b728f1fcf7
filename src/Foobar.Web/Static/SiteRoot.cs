using System.Runtime.InteropServices;

namespace Foobar.Web.Static;

/// <summary>
/// Maps request paths to files under the site root and never outside it: not by <c>..</c> in any
/// encoding (Kestrel decodes and removes dot segments; what is left is refused here), not by a
/// backslash, a NUL byte or a still-encoded slash, and not by a symbolic link that leads out
/// (the file's real path, every link resolved, must lie under the root's real path). Names that
/// start with a dot (<c>.git</c>, <c>.env</c>) are not served.
/// </summary>
public sealed partial class SiteRoot
{
    private readonly string _prefix;

    /// <summary>Opens the root.</summary>
    /// <exception cref="DirectoryNotFoundException">It does not exist.</exception>
    public SiteRoot(string root)
    {
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException(
                $"The web root '{root}' does not exist. Create it, or set web.root in the topology file to a directory of static files.");
        }
        Path = RealPath(root) ?? System.IO.Path.GetFullPath(root);
        _prefix = Path.EndsWith('/') ? Path : Path + "/";
    }

    /// <summary>The root's real path.</summary>
    public string Path { get; }

    /// <summary>
    /// The real path of the regular file <paramref name="requestPath"/> names; null when the path
    /// is not acceptable, names no file, or leads outside the root.
    /// </summary>
    /// <param name="requestPath">The decoded request path, starting with a slash.</param>
    public string? Resolve(string requestPath)
    {
        if (!IsAcceptable(requestPath))
        {
            return null;
        }
        var candidate = string.Concat(_prefix, requestPath.AsSpan(1));
        if (RealPath(candidate) is not { } real || !real.StartsWith(_prefix, StringComparison.Ordinal) || !File.Exists(real))
        {
            return null;
        }
        return real;
    }

    /// <summary>Every segment a plain name: no dot segments, hidden names, backslashes, NULs or encoded slashes.</summary>
    private static bool IsAcceptable(string path)
    {
        if (path.Length < 2 || path[0] != '/' || path.AsSpan().IndexOfAny('\\', '\0') >= 0 || path.Contains("%2F", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        foreach (var range in path.AsSpan(1).Split('/'))
        {
            var segment = path.AsSpan(1)[range];
            if (segment.IsEmpty || segment[0] == '.')
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The canonical absolute path with every symbolic link resolved (realpath(3)); null when it does not exist.</summary>
    private static string? RealPath(string path)
    {
        var resolved = Realpath(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero)
        {
            return null;
        }
        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            Marshal.FreeHGlobal(resolved);
        }
    }

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr Realpath(string path, IntPtr resolved);
}
