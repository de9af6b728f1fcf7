using Foobar.ControlPlane.State;

namespace Foobar.ControlPlane.Tests;

public class StateDirectoryTests
{
    [Fact]
    public void SocketPathProblem_ShortPath_IsNone()
    {
        Assert.Null(new StateDirectory("/tmp/foobar-state").SocketPathProblem());
    }

    [Fact]
    public void SocketPathProblem_PathTooLongForASocket_SaysSoAndWhatToDo()
    {
        var problem = new StateDirectory("/tmp/" + new string('d', 120)).SocketPathProblem();

        Assert.NotNull(problem);
        Assert.Contains("too long", problem);
        Assert.Contains("--state", problem);
    }

    [Fact]
    public void Create_MakesTheDirectoriesOwnerOnly()
    {
        var dir = Directory.CreateTempSubdirectory("foobar-state-").FullName;
        var state = new StateDirectory(Path.Combine(dir, "s"));

        state.Create();

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(state.Root));
        Assert.True(Directory.Exists(state.PidDirectory));
        Assert.True(Directory.Exists(state.LogDirectory));
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void TopologySnapshot_KeepsResolvingTheSiteRootAgainstTheOriginalFile()
    {
        var dir = Directory.CreateTempSubdirectory("foobar-snap-").FullName;
        Directory.CreateDirectory(Path.Combine(dir, "site"));
        var original = Path.Combine(dir, "foobar.yaml");
        File.WriteAllText(original, "network: { range: 127.10.0.0/24 }\nservers:\n  lb1: { roles: [lb] }\n  web1: { roles: [web] }\n  app1: { roles: [app] }\n");
        var state = new StateDirectory(Path.Combine(dir, "state"));
        state.Create();

        TopologySnapshot.Save(state, original);
        File.WriteAllText(original, "broken: [");

        var topology = TopologySnapshot.Load(state);
        Assert.Equal(Path.Combine(dir, "site"), topology.WebRootPath);
        Directory.Delete(dir, recursive: true);
    }
}
