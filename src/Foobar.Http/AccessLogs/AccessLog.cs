using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Foobar.Http.AccessLogs;

/// <summary>
/// A server's access log, written off the request path: a request only queues its entry; one
/// background loop formats and appends entries to the file, flushing when the queue runs dry, at
/// most once per <see cref="FlushInterval"/> (nginx's <c>access_log … buffer= flush=</c>; without
/// it every request of a lightly loaded server woke the writer's thread and made a write of its
/// own). When the disk cannot keep up and <see cref="Capacity"/> entries wait, further entries are
/// counted in <see cref="Dropped"/> rather than slowing requests down.
/// </summary>
public sealed class AccessLog
{
    /// <summary>Entries that may wait to be written.</summary>
    public const int Capacity = 65_536;

    /// <summary>
    /// The longest an entry waits to be written once the writer has written: a line is in the file
    /// within this time, and the writer wakes at most this often however many requests arrive.
    /// </summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(100);

    private readonly Channel<AccessLogEntry> _queue;
    private readonly string _path;
    private readonly AccessLogFormat _format;
    private readonly TimeProvider _time;
    private long _dropped;

    /// <summary>A log appending to <paramref name="path"/> (created with its directory).</summary>
    /// <param name="path">The file.</param>
    /// <param name="format">Combined or JSON lines.</param>
    /// <param name="capacity">Entries that may wait to be written.</param>
    /// <param name="time">The clock of the <see cref="FlushInterval"/>; the system's unless a test says.</param>
    public AccessLog(string path, AccessLogFormat format, int capacity = Capacity, TimeProvider? time = null)
    {
        _path = path;
        _format = format;
        _time = time ?? TimeProvider.System;
        _queue = Channel.CreateBounded<AccessLogEntry>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.DropWrite,
            SingleReader = true,
        }, _ => Interlocked.Increment(ref _dropped));
    }

    /// <summary>Entries not written because the queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Queues an entry; never waits.</summary>
    public void Add(AccessLogEntry entry) => _queue.Writer.TryWrite(entry);

    /// <summary>
    /// Logs every request that passes through <paramref name="app"/> from here on, except those to
    /// <paramref name="quietPath"/> (the health checks, two a second per load balancer);
    /// <paramref name="self"/> is the server's name.
    /// </summary>
    public void Use(IApplicationBuilder app, string self, string? quietPath = null) =>
        app.Use(async (context, next) =>
        {
            if (quietPath is not null && context.Request.Path.Value == quietPath)
            {
                await next(context).ConfigureAwait(false);
                return;
            }
            var arrived = DateTimeOffset.UtcNow;
            var startedAt = Stopwatch.GetTimestamp();
            try
            {
                await next(context).ConfigureAwait(false);
            }
            finally
            {
                Add(AccessLogEntry.Of(context, arrived, startedAt, self));
            }
        });

    /// <summary>
    /// Writes entries until <paramref name="cancellationToken"/>, then what is still queued. When
    /// the file has been moved away (log rotation: <c>mv web1.access.log web1.access.log.1</c>), a
    /// new one is started at the path within a second.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(_path))!);
        var writer = Open();
        var checkedAt = Stopwatch.GetTimestamp();
        try
        {
            while (await _queue.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                // At most once a second: a busy server wakes this loop thousands of times.
                if (Stopwatch.GetElapsedTime(checkedAt) >= TimeSpan.FromSeconds(1))
                {
                    checkedAt = Stopwatch.GetTimestamp();
                    if (!File.Exists(_path))
                    {
                        await writer.DisposeAsync().ConfigureAwait(false);
                        writer = Open();
                    }
                }
                WriteQueued(writer);
                await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                // What arrives meanwhile waits for the next batch: no wake-up per request.
                await Task.Delay(FlushInterval, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _queue.Writer.TryComplete();
            WriteQueued(writer);
        }
        finally
        {
            await writer.DisposeAsync().ConfigureAwait(false);
        }
    }

    private StreamWriter Open() => new(
        new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 64 * 1024),
        new UTF8Encoding(false), 64 * 1024);

    private void WriteQueued(StreamWriter writer)
    {
        while (_queue.Reader.TryRead(out var entry))
        {
            writer.Write(AccessLogLine.Format(entry, _format));
            writer.Write('\n');
        }
    }
}
