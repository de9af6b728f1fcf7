using System.Collections.Concurrent;
using System.IO.Compression;
using Foobar.Http.Front;
using Microsoft.AspNetCore.StaticFiles;

namespace Foobar.Web.Static;

/// <summary>
/// The files of a site as served, by request path: files up to <see cref="MaxFileSizeInMemory"/>
/// kept in memory (within <see cref="MemoryBudget"/>), small text files with their compressed
/// forms, every entry (and every path that names no file, which then goes to the app
/// servers) checked against the disk again after <see cref="Revalidate"/>, so an edited file is
/// served new within that time, as nginx's <c>open_file_cache_valid</c>.
/// </summary>
public sealed class StaticFileCache(SiteRoot root, TimeProvider time)
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>How long an entry is trusted before the disk is asked again. Default 1 s.</summary>
    public TimeSpan Revalidate { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Files up to this size are kept in memory. Default 2 MB: read from memory, a 1 MB file costs
    /// a third less CPU than through Kestrel's file copy (bench/web.sh).
    /// </summary>
    public long MaxFileSizeInMemory { get; init; } = 2 * 1024 * 1024;

    /// <summary>Bytes kept in memory at most, over all files; past it, further files are read from disk. Default 128 MB.</summary>
    public long MemoryBudget { get; init; } = 128 * 1024 * 1024;

    /// <summary>Text files up to this size are compressed here once when no precompressed form is beside them.</summary>
    public const int MaxCompressHere = 64 * 1024;

    /// <summary>Bytes now kept in memory.</summary>
    public long BytesInMemory => Interlocked.Read(ref _bytesInMemory);

    private long _bytesInMemory;

    /// <summary>At most this many paths are remembered; past it, new ones are looked up every time. Default 10,000.</summary>
    public int MaxEntries { get; init; } = 10_000;

    /// <summary>The file <paramref name="requestPath"/> names under the root; null when none does.</summary>
    public StaticFile? Get(string requestPath)
    {
        var known = _entries.TryGetValue(requestPath, out var entry);
        if (known && time.GetElapsedTime(entry.CheckedAt) < Revalidate)
        {
            return entry.File;
        }
        var file = Load(requestPath, entry.File);
        if (known || _entries.Count < MaxEntries)
        {
            _entries[requestPath] = new Entry(file, time.GetTimestamp());
            if (entry.File is { } replaced && !ReferenceEquals(replaced, file))
            {
                Release(replaced);
            }
        }
        else if (file is not null)
        {
            Release(file);
        }
        return file;
    }

    private StaticFile? Load(string requestPath, StaticFile? previous)
    {
        if (root.Resolve(requestPath) is not { } path)
        {
            return null;
        }
        var info = new FileInfo(path);
        if (previous is not null && previous.Path == path && previous.Matches(info))
        {
            return previous;
        }
        if (!ContentTypes.TryGetContentType(path, out var contentType))
        {
            contentType = "application/octet-stream";
        }
        if (contentType.StartsWith("text/", StringComparison.Ordinal) && !contentType.Contains("charset", StringComparison.Ordinal))
        {
            contentType += "; charset=utf-8";
        }
        var body = ReadIntoMemory(path, info.Length);
        var etag = StaticFile.ETagOf(info);
        return new StaticFile(path, info, contentType, body)
        {
            Brotli = Beside(path, ".br", "br", info, etag) ?? CompressHere(body, contentType, "br", etag),
            Gzip = Beside(path, ".gz", "gzip", info, etag) ?? CompressHere(body, contentType, "gzip", etag),
        };
    }

    /// <summary>A precompressed file beside the original (nginx's <c>gzip_static</c>), unless it is older than the original.</summary>
    private StaticFile.Encoded? Beside(string path, string suffix, string coding, FileInfo original, string etag)
    {
        var compressed = new FileInfo(path + suffix);
        if (!compressed.Exists || compressed.LastWriteTimeUtc < original.LastWriteTimeUtc)
        {
            return null;
        }
        var bytes = ReadIntoMemory(compressed.FullName, compressed.Length);
        return new StaticFile.Encoded(coding, bytes, compressed.FullName, compressed.Length, WithCoding(etag, coding));
    }

    /// <summary>The file's bytes when it is small enough and the budget allows; null to read it from disk each time.</summary>
    private byte[]? ReadIntoMemory(string path, long length)
    {
        if (length > MaxFileSizeInMemory || Interlocked.Add(ref _bytesInMemory, Cost(length)) > MemoryBudget)
        {
            if (length <= MaxFileSizeInMemory)
            {
                Interlocked.Add(ref _bytesInMemory, -Cost(length));
            }
            return null;
        }
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length != length)
        {
            // Written to as it was read: serve from disk until it settles.
            Interlocked.Add(ref _bytesInMemory, -Cost(length));
            return null;
        }
        return bytes;
    }

    /// <summary>
    /// The memory <paramref name="length"/> bytes kept take: a body large enough for the front to
    /// send with <c>sendfile</c> is also kept in a sealed memory file (<see cref="FrontFile"/>), so it counts twice.
    /// </summary>
    private static long Cost(long length) => length >= FrontFile.MinUnownedBody ? 2 * length : length;

    /// <summary>Gives back the memory of a file no entry refers to any more.</summary>
    private void Release(StaticFile file)
    {
        var bytes = Cost(file.Body?.LongLength ?? 0)
            + (file.Brotli is { Bytes: { } br, FilePath: not null } ? Cost(br.LongLength) : 0)
            + (file.Gzip is { Bytes: { } gz, FilePath: not null } ? Cost(gz.LongLength) : 0);
        Interlocked.Add(ref _bytesInMemory, -bytes);
    }

    /// <summary>A small text file compressed once, when that saves at least a tenth.</summary>
    private static StaticFile.Encoded? CompressHere(byte[]? body, string contentType, string coding, string etag)
    {
        if (body is null || body.Length < 256 || body.Length > MaxCompressHere || !IsCompressible(contentType))
        {
            return null;
        }
        var output = new MemoryStream();
        using (Stream compressor = coding == "br"
            ? new BrotliStream(output, CompressionLevel.SmallestSize, leaveOpen: true)
            : new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            compressor.Write(body);
        }
        if (output.Length > body.Length * 9 / 10)
        {
            return null;
        }
        var bytes = output.ToArray();
        return new StaticFile.Encoded(coding, bytes, null, bytes.Length, WithCoding(etag, coding));
    }

    private static bool IsCompressible(string contentType) =>
        contentType.StartsWith("text/", StringComparison.Ordinal)
        || contentType.StartsWith("application/javascript", StringComparison.Ordinal)
        || contentType.StartsWith("application/json", StringComparison.Ordinal)
        || contentType.StartsWith("application/xml", StringComparison.Ordinal)
        || contentType.StartsWith("image/svg+xml", StringComparison.Ordinal)
        || contentType.StartsWith("application/manifest+json", StringComparison.Ordinal);

    /// <summary><c>"abc"</c> → <c>"abc-br"</c>: each representation its own strong validator.</summary>
    private static string WithCoding(string etag, string coding) => string.Concat(etag.AsSpan(0, etag.Length - 1), "-", coding, "\"");

    private readonly record struct Entry(StaticFile? File, long CheckedAt);
}
