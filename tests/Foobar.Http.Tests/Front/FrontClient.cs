using System.Net.Sockets;
using System.Text;

namespace Foobar.Http.Tests.Front;

/// <summary>One keep-alive HTTP/1.1 client connection written byte by byte, reading whole responses back.</summary>
internal sealed class FrontClient : IDisposable
{
    private readonly TcpClient _client = new();
    private readonly byte[] _buffer = new byte[16384];
    private readonly StringBuilder _received = new();
    private NetworkStream? _stream;

    /// <summary>A response as received.</summary>
    /// <param name="Head">Status line and headers, without the blank line.</param>
    /// <param name="Body">The body, chunk framing removed.</param>
    /// <param name="RawBody">The body as it came, chunk framing and all.</param>
    public sealed record Response(string Head, string Body, string RawBody)
    {
        /// <summary>The status code.</summary>
        public int Status => int.Parse(Head.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);

        /// <summary>The value of header <paramref name="name"/>; null when absent.</summary>
        public string? Header(string name) => Head.Split("\r\n").Skip(1)
            .Where(line => line.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))
            .Select(line => line[(name.Length + 1)..].Trim()).FirstOrDefault();
    }

    public static async Task<FrontClient> ConnectAsync(Uri server)
    {
        var client = new FrontClient();
        await client._client.ConnectAsync(server.Host, server.Port);
        client._stream = client._client.GetStream();
        return client;
    }

    public Task SendAsync(string bytes) => _stream!.WriteAsync(Encoding.Latin1.GetBytes(bytes)).AsTask();

    /// <summary>Sends <paramref name="bytes"/> in <paramref name="pieces"/> writes cut where <paramref name="random"/> says, each its own segment.</summary>
    public async Task SendInPiecesAsync(string bytes, Random random, int pieces)
    {
        _client.NoDelay = true;
        var all = Encoding.Latin1.GetBytes(bytes);
        var cuts = Enumerable.Range(0, pieces - 1).Select(_ => random.Next(1, all.Length)).Append(0).Append(all.Length).Distinct().Order().ToArray();
        for (var i = 0; i + 1 < cuts.Length; i++)
        {
            await _stream!.WriteAsync(all.AsMemory(cuts[i], cuts[i + 1] - cuts[i]));
        }
    }

    /// <summary>Sends a GET for <paramref name="target"/> with <paramref name="headers"/> (each ending in CRLF) and reads its response.</summary>
    public async Task<Response> GetAsync(string target, string headers = "")
    {
        await SendAsync($"GET {target} HTTP/1.1\r\nHost: www.foobar.com\r\n{headers}\r\n");
        return await ReadResponseAsync();
    }

    /// <summary>Reads one response; a HEAD's (<paramref name="head"/>) has no body whatever its headers say.</summary>
    public async Task<Response> ReadResponseAsync(bool head = false)
    {
        var end = await FillUntilAsync(() => IndexOf("\r\n\r\n"));
        var text = Take(end + 4)[..end];
        var response = new Response(text, "", "");
        if (head || response.Status is 204 or 304)
        {
            return response;
        }
        if (response.Header("Content-Length") is { } length)
        {
            var n = int.Parse(length, System.Globalization.CultureInfo.InvariantCulture);
            await FillUntilAsync(() => _received.Length >= n ? n : -1);
            var body = Take(n);
            return response with { Body = body, RawBody = body };
        }
        if (response.Header("Transfer-Encoding") is "chunked")
        {
            var raw = new StringBuilder();
            var decoded = new StringBuilder();
            while (true)
            {
                var lineEnd = await FillUntilAsync(() => IndexOf("\r\n"));
                var line = Take(lineEnd + 2);
                raw.Append(line);
                var size = Convert.ToInt32(line[..lineEnd], 16);
                await FillUntilAsync(() => _received.Length >= size + 2 ? size + 2 : -1);
                var data = Take(size + 2);
                raw.Append(data);
                decoded.Append(data[..size]);
                if (size == 0)
                {
                    return response with { Body = decoded.ToString(), RawBody = raw.ToString() };
                }
            }
        }
        // Until the connection closes.
        await FillUntilAsync(() => -1);
        var rest = Take(_received.Length);
        return response with { Body = rest, RawBody = rest };
    }

    /// <summary>Whether the server closed the connection (or reset it) before <paramref name="limit"/>, whatever it sent first; false when it stays open that long.</summary>
    public async Task<bool> ClosedWithinAsync(TimeSpan limit)
    {
        using var deadline = new CancellationTokenSource(limit);
        try
        {
            while (await _stream!.ReadAsync(_buffer, deadline.Token) > 0)
            {
            }
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>Reads until <paramref name="found"/> gives an index (not -1) or the server closes; 10 s at most.</summary>
    private async Task<int> FillUntilAsync(Func<int> found)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int at;
        while ((at = found()) < 0)
        {
            var read = await _stream!.ReadAsync(_buffer, deadline.Token);
            if (read == 0)
            {
                return found() is var last and >= 0 ? last : _received.Length;
            }
            _received.Append(Encoding.Latin1.GetString(_buffer, 0, read));
        }
        return at;
    }

    private int IndexOf(string text) => _received.ToString().IndexOf(text, StringComparison.Ordinal);

    private string Take(int length)
    {
        length = Math.Min(length, _received.Length);
        var text = _received.ToString(0, length);
        _received.Remove(0, length);
        return text;
    }

    public void Dispose() => _client.Dispose();
}
