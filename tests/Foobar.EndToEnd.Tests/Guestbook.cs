using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Foobar.EndToEnd.Tests;

/// <summary>Calls the guestbook API through the public address, as a browser with its own cookies would.</summary>
/// <param name="topology">The site.</param>
/// <param name="from">The address this browser connects from, to be a client of its own; null: the kernel's choice (127.0.0.1).</param>
internal sealed class Guestbook(RunningTopology topology, IPAddress? from = null) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        UseProxy = false,
        UseCookies = true,
        CookieContainer = new CookieContainer(),
        AllowAutoRedirect = false,
        ConnectCallback = from is null ? null : (context, cancellationToken) => ConnectFromAsync(from, context.DnsEndPoint, cancellationToken),
    })
    {
        Timeout = TimeSpan.FromSeconds(30),
    };

    private static async ValueTask<Stream> ConnectFromAsync(IPAddress from, DnsEndPoint to, CancellationToken cancellationToken)
    {
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(from, 0));
            await socket.ConnectAsync(IPAddress.Parse(to.Host), to.Port, cancellationToken);
            return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? body = null, string contentType = "application/json",
        string? forwardedFor = null)
    {
        using var request = new HttpRequestMessage(method, $"http://{topology.PublicAddress}{path}");
        request.Headers.Host = "www.foobar.com";
        if (forwardedFor is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
        }
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        }
        try
        {
            return await _http.SendAsync(request);
        }
        catch (HttpRequestException e)
        {
            // The topology's directory goes with the fixture: say now what the servers on the way saw.
            throw new HttpRequestException(e.HttpRequestError, $"{method} {path} through {topology.PublicAddress} failed: {e.Message}\n"
                + topology.LogTails("lb1", "lb2", "web1", "web2", "app1", "app2", "web1.access", "web2.access"), e);
        }
    }

    public Task<HttpResponseMessage> SignAsync(string name, string message) =>
        SendAsync(HttpMethod.Post, "/api/entries", JsonSerializer.Serialize(new { name, message }));

    public static string LastHop(HttpResponseMessage response) =>
        string.Join(",", response.Headers.GetValues("X-Served-By")).Split(',', StringSplitOptions.TrimEntries)[^1];

    public static async Task<long> IdOfAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

    public void Dispose() => _http.Dispose();
}
