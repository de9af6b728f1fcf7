using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Foobar.EndToEnd.Tests;

/// <summary>Calls the guestbook API through the public address, as a browser with its own cookies would.</summary>
internal sealed class Guestbook(RunningTopology topology) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false, UseCookies = true, CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
    {
        Timeout = TimeSpan.FromSeconds(30),
    };

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? body = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, $"http://{topology.PublicAddress}{path}");
        request.Headers.Host = "www.foobar.com";
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        }
        return await _http.SendAsync(request);
    }

    public Task<HttpResponseMessage> SignAsync(string name, string message) =>
        SendAsync(HttpMethod.Post, "/api/entries", JsonSerializer.Serialize(new { name, message }));

    public static string LastHop(HttpResponseMessage response) =>
        string.Join(",", response.Headers.GetValues("X-Served-By")).Split(',', StringSplitOptions.TrimEntries)[^1];

    public static async Task<long> IdOfAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

    public void Dispose() => _http.Dispose();
}
