using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Foobar.Http.Tests.Forwarder.Http1;

/// <summary>
/// A deliberately misbehaving backend: a raw TCP server that reads each request head and lets
/// the test answer with any bytes, close the connection, or both.
/// </summary>
internal sealed class ScriptedBackend : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<Exchange, Task> _answer;
    private readonly Task _accepting;
    private int _connections;

    private ScriptedBackend(Func<Exchange, Task> answer)
    {
        _answer = answer;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>One request as the backend saw it, and the means to answer it.</summary>
    /// <param name="Connection">1 for the first connection accepted, and so on.</param>
    /// <param name="Number">1 for the first request on its connection.</param>
    /// <param name="Head">The request line and headers.</param>
    /// <param name="Stream">The connection.</param>
    public sealed record Exchange(int Connection, int Number, string Head, NetworkStream Stream)
    {
        /// <summary>Set to close the connection after the answer.</summary>
        public bool Close { get; set; }

        /// <summary>Sends <paramref name="text"/> (Latin-1).</summary>
        public Task SendAsync(string text) => Stream.WriteAsync(Encoding.Latin1.GetBytes(text)).AsTask();
    }

    /// <summary>Starts a backend answering every request with <paramref name="answer"/>.</summary>
    public static ScriptedBackend Start(Func<Exchange, Task> answer) => new(answer);

    /// <summary>Starts a backend answering every request with the same bytes.</summary>
    public static ScriptedBackend Answering(string response) => new(exchange => exchange.SendAsync(response));

    /// <summary>Its address.</summary>
    public Uri BaseUri => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Request heads received so far, in order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    private async Task AcceptAsync()
    {
        var serving = new List<Task>();
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                serving.Add(ServeAsync(client, Interlocked.Increment(ref _connections)));
            }
        }
        catch (OperationCanceledException)
        {
        }
        await Task.WhenAll(serving);
    }

    private async Task ServeAsync(TcpClient client, int connection)
    {
        using var _ = client;
        var stream = client.GetStream();
        var received = new StringBuilder();
        var buffer = new byte[8192];
        try
        {
            for (var number = 1; ; number++)
            {
                int end;
                while ((end = received.ToString().IndexOf("\r\n\r\n", StringComparison.Ordinal)) < 0)
                {
                    var read = await stream.ReadAsync(buffer, _stop.Token);
                    if (read == 0)
                    {
                        return;
                    }
                    received.Append(Encoding.Latin1.GetString(buffer, 0, read));
                }
                var head = received.ToString(0, end);
                received.Remove(0, end + 4);
                Requests.Enqueue(head);
                var exchange = new Exchange(connection, number, head, stream);
                await _answer(exchange);
                if (exchange.Close)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
