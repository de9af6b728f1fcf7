namespace Foobar.ControlPlane.State;

/// <summary>
/// Everything one running infrastructure owns on disk. Layout:
/// <c>topology.yaml</c> (the copy being run), <c>control.sock</c>, <c>control-plane.pid</c>,
/// <c>pids/NAME.pid</c>, <c>logs/NAME.log</c>, <c>events.log</c>.
/// </summary>
public sealed class StateDirectory
{
    /// <summary>The directory used when <c>--state</c> is not given, relative to the working directory.</summary>
    public const string DefaultPath = ".foobar";

    /// <summary>Wraps <paramref name="path"/> (made absolute); nothing is created yet.</summary>
    public StateDirectory(string path)
    {
        Root = Path.GetFullPath(path);
    }

    /// <summary>Absolute path.</summary>
    public string Root { get; }

    /// <summary>The topology being run, copied at <c>up</c> so later edits of the original do not change it underneath.</summary>
    public string TopologyFile => Path.Combine(Root, "topology.yaml");

    /// <summary>Unix socket of the control API.</summary>
    public string ControlSocket => Path.Combine(Root, "control.sock");

    /// <summary>Pid file of the control plane.</summary>
    public string ControlPlanePidFile => Path.Combine(Root, "control-plane.pid");

    /// <summary>Directory of server pid files.</summary>
    public string PidDirectory => Path.Combine(Root, "pids");

    /// <summary>Directory of logs.</summary>
    public string LogDirectory => Path.Combine(Root, "logs");

    /// <summary>Supervision events, one per line.</summary>
    public string EventsFile => Path.Combine(Root, "events.log");

    /// <summary>
    /// The servers an operator drained on the <paramref name="front"/> tier, a JSON list: web servers
    /// on the load balancers (<c>foobar lb drain</c>, lb-drained.json), app servers on the web
    /// servers (<c>foobar web drain</c>, web-drained.json).
    /// </summary>
    public string DrainedFile(string front) => Path.Combine(Root, $"{front}-drained.json");

    /// <summary>Pid file of server <paramref name="name"/>.</summary>
    public string PidFile(string name) => Path.Combine(PidDirectory, name + ".pid");

    /// <summary>
    /// Pid files of processes server <paramref name="name"/> runs in process groups of their own
    /// (<c>NAME.*.pid</c>, as <c>ServerPaths.ChildPidFile</c>): signalled with the server.
    /// </summary>
    public IEnumerable<string> ChildPidFiles(string name) =>
        Directory.Exists(PidDirectory) ? Directory.GetFiles(PidDirectory, name + ".*.pid") : [];

    /// <summary>Log of server <paramref name="name"/> (its stdout and stderr).</summary>
    public string LogFile(string name) => Path.Combine(LogDirectory, name + ".log");

    /// <summary>Longest Unix socket path Linux accepts (sun_path is 108 bytes with the terminating NUL).</summary>
    public const int MaxSocketPathBytes = 107;

    /// <summary>Why this directory cannot hold the control socket, or null when it can.</summary>
    public string? SocketPathProblem()
    {
        var length = System.Text.Encoding.UTF8.GetByteCount(ControlSocket);
        return length <= MaxSocketPathBytes ? null
            : $"the state directory path is too long for the control socket ({length} bytes, Linux allows {MaxSocketPathBytes}): pass a shorter --state";
    }

    /// <summary>Creates the directories, readable by the owner only (they will hold secrets).</summary>
    public void Create()
    {
        foreach (var dir in new[] { Root, PidDirectory, LogDirectory })
        {
            Directory.CreateDirectory(dir);
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>The last <paramref name="lines"/> lines of <paramref name="file"/>, or empty.</summary>
    public static string Tail(string file, int lines = 15)
    {
        try
        {
            var all = File.ReadAllLines(file);
            return string.Join(Environment.NewLine, all.Skip(Math.Max(0, all.Length - lines)));
        }
        catch (IOException)
        {
            return "";
        }
    }
}
