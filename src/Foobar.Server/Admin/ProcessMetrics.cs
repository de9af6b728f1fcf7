using System.Diagnostics;
using System.Text;
using static Foobar.LoadBalancer.Stats.PrometheusMetrics;

namespace Foobar.Server.Admin;

/// <summary>
/// The process's own metrics in Prometheus' text format, under the names Prometheus' client
/// libraries give them (<c>process_*</c>, and <c>dotnet_*</c> for the runtime), so the dashboards
/// and alerts written for those work unchanged: every server's <c>/metrics</c> starts with them.
/// No labels: the scrape's <c>instance</c> says which server.
/// </summary>
public static class ProcessMetrics
{
    private static readonly double StartTime = Process.GetCurrentProcess().StartTime.ToUniversalTime().Subtract(DateTime.UnixEpoch).TotalSeconds;

    /// <summary>Appends every metric as it is now.</summary>
    public static StringBuilder Render(StringBuilder text)
    {
        using var process = Process.GetCurrentProcess();
        Sample(text, "process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.", process.TotalProcessorTime.TotalSeconds);
        Sample(text, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", process.WorkingSet64);
        Sample(text, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", process.VirtualMemorySize64);
        Sample(text, "process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds.", StartTime);
        Sample(text, "process_open_fds", "gauge", "Open file descriptors.", OpenDescriptors());
        Sample(text, "process_num_threads", "gauge", "Threads of the process.", process.Threads.Count);
        Header(text, "dotnet_gc_collections_total", "counter", "Garbage collections since the process started, by the oldest generation collected.");
        for (var generation = 0; generation <= GC.MaxGeneration; generation++)
        {
            // CollectionCount(n) counts collections of generation n and older; each collection once, by its own generation.
            var own = GC.CollectionCount(generation) - (generation < GC.MaxGeneration ? GC.CollectionCount(generation + 1) : 0);
            text.Append("dotnet_gc_collections_total{generation=\"").Append(generation).Append("\"} ").Append(Format(own)).Append('\n');
        }
        Sample(text, "dotnet_gc_pause_seconds_total", "counter", "Time the runtime paused the process for garbage collections, in seconds.", GC.GetTotalPauseDuration().TotalSeconds);
        Sample(text, "dotnet_gc_allocated_bytes_total", "counter", "Bytes allocated on the managed heap since the process started.", GC.GetTotalAllocatedBytes());
        Sample(text, "dotnet_gc_heap_size_bytes", "gauge", "Managed heap size after the last garbage collection, in bytes.", GC.GetGCMemoryInfo().HeapSizeBytes);
        Sample(text, "dotnet_threadpool_threads", "gauge", "Threads of the runtime's thread pool.", ThreadPool.ThreadCount);
        Sample(text, "dotnet_threadpool_queue_length", "gauge", "Work items waiting for a thread-pool thread.", ThreadPool.PendingWorkItemCount);
        return text;
    }

    private static int OpenDescriptors()
    {
        try
        {
            return Directory.GetFileSystemEntries("/proc/self/fd").Length;
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
    }

    private static void Sample(StringBuilder text, string name, string type, string help, double value)
    {
        Header(text, name, type, help);
        text.Append(name).Append(' ').Append(Format(value)).Append('\n');
    }
}
