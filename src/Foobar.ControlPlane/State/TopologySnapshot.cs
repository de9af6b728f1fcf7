using Foobar.Topology.Loading;

namespace Foobar.ControlPlane.State;

/// <summary>
/// The copy of the topology a running infrastructure uses. The text is copied; relative paths in
/// it (web.root) keep resolving against the original file's directory, recorded beside it.
/// </summary>
public static class TopologySnapshot
{
    private static string BaseFile(StateDirectory state) => state.TopologyFile + ".base";

    /// <summary>Copies <paramref name="sourcePath"/> into <paramref name="state"/>.</summary>
    public static void Save(StateDirectory state, string sourcePath)
    {
        File.WriteAllText(state.TopologyFile, File.ReadAllText(sourcePath));
        File.WriteAllText(BaseFile(state), Path.GetDirectoryName(Path.GetFullPath(sourcePath)));
    }

    /// <summary>Loads the copy; throws <see cref="TopologyException"/> as the loader does.</summary>
    public static Topology.Topology Load(StateDirectory state)
    {
        if (!File.Exists(state.TopologyFile))
        {
            throw new TopologyException([new TopologyProblem(state.TopologyFile, 0, 0, "", "no topology in this state directory",
                "start the infrastructure with 'foobar up', or pass --state with the directory 'up' used")]);
        }
        var baseDirectory = File.Exists(BaseFile(state)) ? File.ReadAllText(BaseFile(state)).Trim() : state.Root;
        return TopologyLoader.Parse(File.ReadAllText(state.TopologyFile), state.TopologyFile, baseDirectory);
    }
}
