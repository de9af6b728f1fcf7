using Foobar.ControlPlane.Processes;
using Foobar.Server.Processes;

namespace Foobar.ControlPlane.Tests.Processes;

public class ProcessIdentityTests
{
    [Fact]
    public void Of_ThisProcess_IsAlive()
    {
        var self = ProcessIdentity.Of(Environment.ProcessId);

        Assert.NotNull(self);
        Assert.True(self.IsAlive);
        Assert.True(self.StartTicks > 0);
    }

    [Fact]
    public void IsAlive_SamePidOtherStartTime_IsNotOurProcess()
    {
        var self = ProcessIdentity.Of(Environment.ProcessId)!;

        Assert.False((self with { StartTicks = self.StartTicks + 1 }).IsAlive);
    }

    [Fact]
    public void Of_NoSuchProcess_IsNull()
    {
        Assert.Null(ProcessIdentity.Of(int.MaxValue));
    }

    [Theory]
    [InlineData("")]
    [InlineData("123")]
    [InlineData("abc 5")]
    [InlineData("-5 10")]
    [InlineData("12 34 56")]
    public void Parse_Malformed_IsNull(string text)
    {
        Assert.Null(ProcessIdentity.Parse(text));
    }

    [Fact]
    public void PidFile_RoundTrips()
    {
        var dir = Directory.CreateTempSubdirectory("foobar-pid-").FullName;
        var path = Path.Combine(dir, "x.pid");
        var identity = new ProcessIdentity(42, 12345);

        PidFile.Write(path, identity);

        Assert.Equal(identity, PidFile.Read(path));
        Assert.Equal("42 12345\n", File.ReadAllText(path));
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void PidFile_Garbage_ReadsAsNull()
    {
        var dir = Directory.CreateTempSubdirectory("foobar-pid-").FullName;
        var path = Path.Combine(dir, "x.pid");
        File.WriteAllText(path, "\u0000\u0001garbage");

        Assert.Null(PidFile.Read(path));
        Assert.Null(PidFile.Read(path + ".missing"));
        Directory.Delete(dir, recursive: true);
    }
}
