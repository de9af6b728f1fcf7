using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Foobar.MySql.Tests.Fakes;

/// <summary>
/// An in-process server that speaks just enough of the protocol to misbehave on purpose: each
/// accepted connection runs the script the test gives it. Beside the real MariaDB, never instead.
/// </summary>
internal sealed class FakeMySqlServer : IAsyncDisposable
{
    public static readonly byte[] Scramble = Encoding.ASCII.GetBytes("abcdefghij0123456789");

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<FakeConnection, int, Task> _script;
    private readonly Task _accepting;
    private readonly CancellationTokenSource _stop = new();
    private int _connections;

    public FakeMySqlServer(Func<FakeConnection, int, Task> script)
    {
        _script = script;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public List<Exception> ScriptErrors { get; } = [];

    public string ConnectionString(string extra = "") =>
        $"Server=127.0.0.1;Port={Port};User ID=u;Password=secret;SslMode=None;Track Gtid=false;Connect Timeout=5;{extra}";

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            var number = Interlocked.Increment(ref _connections);
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    try
                    {
                        await _script(new FakeConnection(client.GetStream()), number);
                    }
                    catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
                    {
                    }
                    catch (Exception e)
                    {
                        lock (ScriptErrors)
                        {
                            ScriptErrors.Add(e);
                        }
                    }
                }
            });
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

/// <summary>One connection of the fake server, with packet helpers.</summary>
internal sealed class FakeConnection(Stream stream)
{
    private byte _sequence;

    public Stream Stream { get; set; } = stream;

    public static byte[] Handshake(string plugin = "mysql_native_password", uint capabilities = 0xFFFF_F7FF, byte protocol = 10)
    {
        var payload = new List<byte> { protocol };
        payload.AddRange("5.5.5-10.11.0-FakeDB"u8.ToArray());
        payload.Add(0);
        payload.AddRange(BitConverter.GetBytes(7u));
        payload.AddRange(FakeMySqlServer.Scramble[..8]);
        payload.Add(0);
        payload.AddRange(BitConverter.GetBytes((ushort)capabilities));
        payload.Add(45);
        payload.AddRange(BitConverter.GetBytes((ushort)2));
        payload.AddRange(BitConverter.GetBytes((ushort)(capabilities >> 16)));
        payload.Add(21);
        payload.AddRange(new byte[10]);
        payload.AddRange(FakeMySqlServer.Scramble[8..]);
        payload.Add(0);
        payload.AddRange(Encoding.ASCII.GetBytes(plugin));
        payload.Add(0);
        return [.. payload];
    }

    public static byte[] Ok => [0x00, 0, 0, 2, 0, 0, 0];

    public static byte[] Error(ushort code, string state, string message) =>
        [0xFF, (byte)code, (byte)(code >> 8), (byte)'#', .. Encoding.ASCII.GetBytes(state), .. Encoding.UTF8.GetBytes(message)];

    public Task SendAsync(byte[] payload) => SendAsync(payload, _sequence++);

    public async Task SendAsync(byte[] payload, byte sequence)
    {
        byte[] header = [(byte)payload.Length, (byte)(payload.Length >> 8), (byte)(payload.Length >> 16), sequence];
        await Stream.WriteAsync(header);
        await Stream.WriteAsync(payload);
        await Stream.FlushAsync();
    }

    public async Task SendRawAsync(byte[] bytes)
    {
        await Stream.WriteAsync(bytes);
        await Stream.FlushAsync();
    }

    public async Task<byte[]> ReadAsync()
    {
        var header = new byte[4];
        await Stream.ReadExactlyAsync(header);
        _sequence = (byte)(header[3] + 1);
        var payload = new byte[header[0] | (header[1] << 8) | (header[2] << 16)];
        await Stream.ReadExactlyAsync(payload);
        return payload;
    }

    /// <summary>The auth response of a HandshakeResponse41 (after user name), as the client sent it.</summary>
    public static byte[] AuthResponse(byte[] handshakeResponse)
    {
        var offset = 32;
        offset = Array.IndexOf(handshakeResponse, (byte)0, offset) + 1;
        var length = handshakeResponse[offset];
        return handshakeResponse[(offset + 1)..(offset + 1 + length)];
    }
}
