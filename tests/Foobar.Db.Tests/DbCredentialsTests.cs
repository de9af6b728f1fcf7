using Foobar.Db.Accounts;

namespace Foobar.Db.Tests;

public sealed class DbCredentialsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("foobar-secrets-").FullName;

    private string File(string name = "db.json") => Path.Combine(_dir, "secrets", name);

    [Fact]
    public void LoadOrCreate_NewFile_IsOwnerOnlyWithThreeDistinctPasswords()
    {
        var credentials = DbCredentials.LoadOrCreate(File());

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, System.IO.File.GetUnixFileMode(File()));
        string[] passwords = [credentials.AppPassword, credentials.ReplicationPassword, credentials.AdminPassword];
        Assert.All(passwords, p => Assert.Matches("^[A-Za-z0-9]{32}$", p));
        Assert.Equal(3, passwords.Distinct().Count());
    }

    [Fact]
    public void LoadOrCreate_Existing_ReturnsTheSamePasswords()
    {
        var first = DbCredentials.LoadOrCreate(File());

        Assert.Equal(first, DbCredentials.LoadOrCreate(File()));
    }

    [Fact]
    public void LoadOrCreate_ManyRacing_AllGetTheSamePasswords()
    {
        // Three hundred races of eight threads released together: the check-then-rename this replaced
        // failed this in two runs of two (two password sets handed out), the link never.
        for (var race = 0; race < 300; race++)
        {
            var file = File($"race{race}.json");
            using var start = new Barrier(8);
            var results = new DbCredentials[8];
            var threads = Enumerable.Range(0, 8).Select(i => new Thread(() =>
            {
                start.SignalAndWait();
                results[i] = DbCredentials.LoadOrCreate(file);
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());

            Assert.Single(results.Distinct());
        }
        Assert.Equal(300, Directory.EnumerateFiles(Path.GetDirectoryName(File())!).Count());
    }

    [Fact]
    public void Load_NotJson_SaysHowToRegenerate()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(File())!);
        System.IO.File.WriteAllText(File(), "app: hunter2");
        System.IO.File.SetUnixFileMode(File(), UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var e = Assert.Throws<InvalidDataException>(() => DbCredentials.LoadOrCreate(File()));

        Assert.Contains("is not a database credentials file", e.Message);
        Assert.Contains("delete it", e.Message);
        Assert.Equal("app: hunter2", System.IO.File.ReadAllText(File()));
    }

    [Fact]
    public void Load_MissingPassword_IsRefused()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(File())!);
        System.IO.File.WriteAllText(File(), """{"AppPassword":"a","ReplicationPassword":"","AdminPassword":"c"}""");
        System.IO.File.SetUnixFileMode(File(), UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var e = Assert.Throws<InvalidDataException>(() => DbCredentials.Load(File()));

        Assert.Contains("lacks a password", e.Message);
    }

    [Fact]
    public void Load_ReadableByOthers_IsRefusedWithTheChmod()
    {
        DbCredentials.LoadOrCreate(File());
        System.IO.File.SetUnixFileMode(File(), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        var e = Assert.Throws<InvalidDataException>(() => DbCredentials.Load(File()));

        Assert.Contains("chmod 600", e.Message);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
