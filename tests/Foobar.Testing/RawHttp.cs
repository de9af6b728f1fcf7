using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Foobar.Testing;

/// <summary>Bytes on a TCP connection, for requests no HTTP client would send.</summary>
public static class RawHttp
{
    /// <summary>Sends <paramref name="request"/> and reads until the server closes or 5 s pass; returns what came back.</summary>
    public static async Task<string> ExchangeAsync(IPAddress address, int port, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(address, port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        return await ReadUntilClosedAsync(stream, TimeSpan.FromSeconds(5));
    }

    /// <summary>Reads what the server sends until it closes the connection or <paramref name="limit"/> passes.</summary>
    public static async Task<string> ReadUntilClosedAsync(NetworkStream stream, TimeSpan limit)
    {
        using var deadline = new CancellationTokenSource(limit);
        var received = new MemoryStream();
        var buffer = new byte[8192];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, deadline.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }
        return Encoding.ASCII.GetString(received.ToArray());
    }

    /// <summary>The status line's code, or "" when nothing came back.</summary>
    public static string StatusOf(string response) =>
        response.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) ? response[9..12] : "";

    /// <summary>Elapsed time of <paramref name="action"/>.</summary>
    public static async Task<TimeSpan> TimeAsync(Func<Task> action)
    {
        var clock = Stopwatch.StartNew();
        await action();
        return clock.Elapsed;
    }
}
