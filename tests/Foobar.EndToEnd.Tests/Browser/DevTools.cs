using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Foobar.EndToEnd.Tests.Browser;

/// <summary>
/// The Chrome DevTools protocol over one page's WebSocket: commands as JSON with an id, answered
/// by a message with the same id; events in between are skipped.
/// </summary>
internal sealed class DevTools(ClientWebSocket socket) : IAsyncDisposable
{
    private int _nextId;

    public static async Task<DevTools> ConnectAsync(Uri page, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.Proxy = null;
        await socket.ConnectAsync(page, cancellationToken);
        return new DevTools(socket);
    }

    /// <summary>Sends <paramref name="method"/> and returns its result; a protocol error throws.</summary>
    public async Task<JsonNode> SendAsync(string method, object? parameters, CancellationToken cancellationToken)
    {
        var id = ++_nextId;
        var command = JsonSerializer.SerializeToUtf8Bytes(new { id, method, @params = parameters ?? new { } });
        await socket.SendAsync(command, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        while (true)
        {
            var message = JsonNode.Parse(await ReceiveAsync(cancellationToken))!;
            if (message["id"]?.GetValue<int>() != id)
            {
                continue;
            }
            if (message["error"] is { } error)
            {
                throw new InvalidOperationException($"{method}: {error.ToJsonString()}");
            }
            return message["result"]!;
        }
    }

    /// <summary>Evaluates <paramref name="expression"/> in the page; its value as JSON.</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression, CancellationToken cancellationToken)
    {
        var result = await SendAsync("Runtime.evaluate", new { expression, returnByValue = true }, cancellationToken);
        if (result["exceptionDetails"] is { } exception)
        {
            throw new InvalidOperationException($"{expression}: {exception.ToJsonString()}");
        }
        return result["result"]?["value"];
    }

    private async Task<string> ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, cancellationToken);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException("the browser closed the DevTools connection");
            }
            message.Write(buffer, 0, received.Count);
            if (received.EndOfMessage)
            {
                return Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
            }
        }
        socket.Dispose();
    }
}
