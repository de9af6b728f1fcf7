namespace Foobar.Db.Accounts;

/// <summary>Files holding passwords: created readable and writable by their owner only (0600).</summary>
public static class SecretFile
{
    /// <summary>Writes <paramref name="text"/> to <paramref name="file"/>, creating it with mode 0600.</summary>
    public static void Write(string file, string text)
    {
        using var stream = new FileStream(file, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        using var writer = new StreamWriter(stream);
        writer.Write(text);
    }
}
