namespace Foobar.Http.Tls;

/// <summary>
/// The lock between renewing a site certificate (two files replaced one after the other) and
/// reading it: an flock(2) on <c>.renew.lock</c> in the certificate's directory, taken through
/// .NET's file sharing (<see cref="FileShare.None"/> is exclusive, anything else shared). Advisory,
/// across processes; released when the returned stream is disposed.
/// </summary>
internal static class RenewalLock
{
    private const string FileName = ".renew.lock";

    /// <summary>Takes the lock in <paramref name="directory"/>, waiting up to <paramref name="wait"/> (default 10 s) for a holder to finish.</summary>
    /// <exception cref="IOException">Still held after the wait.</exception>
    public static FileStream Take(string directory, bool exclusive, TimeSpan? wait = null)
    {
        var file = Path.Combine(directory, FileName);
        var deadline = Environment.TickCount64 + (long)(wait ?? TimeSpan.FromSeconds(10)).TotalMilliseconds;
        while (true)
        {
            try
            {
                return new FileStream(file, FileMode.OpenOrCreate, FileAccess.ReadWrite, exclusive ? FileShare.None : FileShare.ReadWrite);
            }
            catch (IOException) when (Environment.TickCount64 < deadline)
            {
                // A renewal takes milliseconds.
                Thread.Sleep(20);
            }
        }
    }

    /// <summary>A shared lock when <paramref name="directory"/> has a lock file (an authority's directory); null elsewhere.</summary>
    public static FileStream? TakeSharedIfPresent(string directory) =>
        File.Exists(Path.Combine(directory, FileName)) ? Take(directory, exclusive: false) : null;
}
