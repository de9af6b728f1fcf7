
namespace Foobar.Server.Processes;

/// <summary>Pid files holding a <see cref="ProcessIdentity"/>.</summary>
public static class PidFile
{
    /// <summary>Writes atomically (temp file and rename): a reader never sees half a line.</summary>
    public static void Write(string path, ProcessIdentity identity)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, identity + "\n");
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The identity in <paramref name="path"/>; null when missing or malformed.</summary>
    public static ProcessIdentity? Read(string path)
    {
        try
        {
            return ProcessIdentity.Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Deletes <paramref name="path"/> if present.</summary>
    public static void Delete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }
}
