using Foobar.Http.Front;
using Foobar.Testing;
using Foobar.Web.Static;

namespace Foobar.Web.Tests.Static;

public sealed class StaticFileCacheTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("foobar-cache-").FullName;
    private readonly FakeTimeProvider _time = new();

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task ChangedFile_IsServedNew_OnceTheRevalidationTimeHasPassed()
    {
        var path = Path.Combine(_root, "note.txt");
        await File.WriteAllTextAsync(path, "first");
        var cache = new StaticFileCache(new SiteRoot(_root), _time);
        var first = cache.Get("/note.txt")!;

        await File.WriteAllTextAsync(path, "second!");
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1));
        var withinASecond = cache.Get("/note.txt")!;
        _time.Advance(TimeSpan.FromSeconds(1.5));
        var after = cache.Get("/note.txt")!;

        Assert.Same(first, withinASecond);
        Assert.Equal("first"u8.ToArray(), withinASecond.Body);
        Assert.Equal("second!"u8.ToArray(), after.Body);
        Assert.NotEqual(first.ETag, after.ETag);
    }

    [Fact]
    public async Task UnchangedFile_KeepsItsEntry_AcrossRevalidations()
    {
        await File.WriteAllTextAsync(Path.Combine(_root, "same.txt"), "same");
        var cache = new StaticFileCache(new SiteRoot(_root), _time);
        var first = cache.Get("/same.txt");

        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.Same(first, cache.Get("/same.txt"));
    }

    [Fact]
    public async Task MissingFile_AppearsAfterTheRevalidationTime_AndADeletedOneGoes()
    {
        var cache = new StaticFileCache(new SiteRoot(_root), _time);
        Assert.Null(cache.Get("/later.txt"));

        await File.WriteAllTextAsync(Path.Combine(_root, "later.txt"), "here now");
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.NotNull(cache.Get("/later.txt"));

        File.Delete(Path.Combine(_root, "later.txt"));
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Null(cache.Get("/later.txt"));
    }

    [Fact]
    public async Task FileOverTheMemoryLimit_IsDescribedButReadFromDisk()
    {
        await File.WriteAllBytesAsync(Path.Combine(_root, "big.bin"), new byte[100]);
        var cache = new StaticFileCache(new SiteRoot(_root), _time) { MaxFileSizeInMemory = 50 };

        var file = cache.Get("/big.bin")!;

        Assert.Null(file.Body);
        Assert.Equal(100, file.Length);
    }

    [Fact]
    public async Task MemoryBudget_FilesPastItAreReadFromDisk_AndAReplacedFileGivesItsBytesBack()
    {
        await File.WriteAllBytesAsync(Path.Combine(_root, "a.bin"), new byte[100]);
        await File.WriteAllBytesAsync(Path.Combine(_root, "b.bin"), new byte[100]);
        var cache = new StaticFileCache(new SiteRoot(_root), _time) { MemoryBudget = 150 };

        Assert.NotNull(cache.Get("/a.bin")!.Body);
        Assert.Null(cache.Get("/b.bin")!.Body);
        Assert.Equal(100, cache.BytesInMemory);

        await File.WriteAllBytesAsync(Path.Combine(_root, "a.bin"), new byte[40]);
        File.SetLastWriteTimeUtc(Path.Combine(_root, "a.bin"), DateTime.UtcNow.AddMinutes(1));
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(40, cache.Get("/a.bin")!.Body!.Length);
        Assert.Equal(40, cache.BytesInMemory);
    }

    [Fact]
    public async Task MemoryBudget_ALargeFileCountsTwice_ForItsSealedCopy_AndGivesBothBack()
    {
        var large = FrontFile.MinUnownedBody;
        await File.WriteAllBytesAsync(Path.Combine(_root, "large.bin"), new byte[large]);
        await File.WriteAllBytesAsync(Path.Combine(_root, "small.bin"), new byte[100]);
        var cache = new StaticFileCache(new SiteRoot(_root), _time) { MemoryBudget = 2 * large + 150 };

        Assert.NotNull(cache.Get("/large.bin")!.Body);
        Assert.Equal(2 * large, cache.BytesInMemory);
        Assert.NotNull(cache.Get("/small.bin")!.Body);

        File.Delete(Path.Combine(_root, "large.bin"));
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Null(cache.Get("/large.bin"));
        Assert.Equal(100, cache.BytesInMemory);
    }

    [Fact]
    public void MissingRoot_NamesTheSettingToFix()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => new SiteRoot(Path.Combine(_root, "nope")));

        Assert.Contains("web.root", e.Message);
    }
}
