using System.Globalization;

namespace Foobar.Web.Static;

/// <summary>
/// One file as served: its validators and headers worked out once, its bytes kept in memory when
/// small, and its compressed forms (a <c>.br</c> or <c>.gz</c> file beside it, or for small text
/// files compressed here once) ready to send.
/// </summary>
public sealed class StaticFile
{
    /// <summary>Describes the file at <paramref name="path"/> as it is now.</summary>
    internal StaticFile(string path, FileInfo info, string contentType, byte[]? body)
    {
        Path = path;
        Length = info.Length;
        LastModified = new DateTimeOffset(info.LastWriteTimeUtc.Ticks - (info.LastWriteTimeUtc.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        ETag = ETagOf(info);
        LastModifiedHeader = LastModified.ToString("R", CultureInfo.InvariantCulture);
        ContentType = contentType;
        Body = body;
    }

    /// <summary>The file's real path.</summary>
    public string Path { get; }

    /// <summary>Its length in bytes.</summary>
    public long Length { get; }

    /// <summary>Its modification time, to the second (what Last-Modified can say).</summary>
    public DateTimeOffset LastModified { get; }

    /// <summary>The Last-Modified header value.</summary>
    public string LastModifiedHeader { get; }

    /// <summary>The ETag header value.</summary>
    public string ETag { get; }

    /// <summary>Its media type.</summary>
    public string ContentType { get; }

    /// <summary>Its bytes when it is small enough to keep; null to read from disk.</summary>
    public byte[]? Body { get; }

    /// <summary>The Brotli form, when there is one.</summary>
    public Encoded? Brotli { get; init; }

    /// <summary>The gzip form, when there is one.</summary>
    public Encoded? Gzip { get; init; }

    /// <summary>
    /// The answers <see cref="Foobar.Http.Front.Http1Front"/> sends, by representation (as it is,
    /// Brotli, gzip) and then the same three as 304s, made on first use
    /// (<see cref="StaticFileResponder.FrontAnswer"/>); a race makes one twice, both the same.
    /// </summary>
    internal Answer?[] FrontAnswers { get; } = new Answer?[6];

    /// <summary>Whether the response depends on Accept-Encoding.</summary>
    public bool HasEncodings => Brotli is not null || Gzip is not null;

    /// <summary>Whether the file on disk is still the one described (same length and modification time).</summary>
    internal bool Matches(FileInfo info) => info.Exists && info.Length == Length && ETagOf(info) == ETag;

    /// <summary>Strong: the same bytes for the same modification time and length, as nginx's.</summary>
    internal static string ETagOf(FileInfo info) =>
        string.Create(CultureInfo.InvariantCulture, $"\"{info.LastWriteTimeUtc.Ticks:x}-{info.Length:x}\"");

    /// <summary>A front's answer for one representation, with the Cache-Control it was made for (the rules may change on reload).</summary>
    internal sealed record Answer(string? CacheControl, Foobar.Http.Front.FrontFile File);

    /// <summary>A compressed form: in memory, or a file beside the original.</summary>
    /// <param name="Coding">The Content-Encoding value.</param>
    /// <param name="Bytes">The compressed bytes, when kept in memory.</param>
    /// <param name="FilePath">The precompressed file, when read from disk.</param>
    /// <param name="Length">Its length.</param>
    /// <param name="ETag">Its own validator: a different representation has a different one.</param>
    public sealed record Encoded(string Coding, byte[]? Bytes, string? FilePath, long Length, string ETag);
}
