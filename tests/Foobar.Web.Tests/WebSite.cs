using Foobar.Http;
using Foobar.Http.AccessLogs;
using Foobar.Http.Backends;
using Foobar.Http.Forwarder;
using Foobar.Http.Front;
using Foobar.Http.LoadBalancing;
using Foobar.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Foobar.Web.Tests;

/// <summary>
/// A web server "web1" on real Kestrel over a site root, with an app server "app1" behind it
/// that answers <c>app:PATH</c>; <c>/api/</c> is the proxy prefix.
/// </summary>
internal sealed class WebSite : IAsyncDisposable
{
    private readonly LoopbackServer _app;
    private readonly LoopbackServer _web;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _logging;

    private WebSite(LoopbackServer app, LoopbackServer web, HttpClient client, AccessLog? accessLog, WebServer server, WebOptions options, Http1Front? front)
    {
        Front = front;
        _app = app;
        _web = web;
        Client = client;
        Server = server;
        Options = options;
        _logging = accessLog?.RunAsync(_stop.Token) ?? Task.CompletedTask;
    }

    public HttpClient Client { get; }

    /// <summary>The web server, to give new settings.</summary>
    public WebServer Server { get; }

    /// <summary>The front ahead of Kestrel, when the site has one (as Foobar's web servers on plain HTTP).</summary>
    public Http1Front? Front { get; }

    /// <summary>The settings it started with.</summary>
    public WebOptions Options { get; }

    public Uri BaseUri => _web.BaseUri;

    /// <summary>
    /// Starts both, and the access log's writer when there is one; the client does not decompress,
    /// so tests see the bytes as sent. <paramref name="configure"/> adjusts the web options;
    /// without <paramref name="appUp"/> the app server's address refuses connections. With
    /// <paramref name="front"/> the server runs as Foobar's web role does on plain HTTP: on
    /// Foobar's transport, with <see cref="Http1Front"/> ahead of Kestrel.
    /// </summary>
    public static async Task<WebSite> StartAsync(string root, AccessLog? accessLog = null, Func<WebOptions, WebOptions>? configure = null, bool appUp = true, bool front = false)
    {
        var app = await LoopbackServer.StartAsync(async context =>
        {
            context.Response.Headers[ServedBy.HeaderName] = "app1";
            await context.Response.WriteAsync($"app:{context.Request.Path.Value}");
        });
        var apps = new BackendPool([new Backend("app1", appUp ? app.BaseUri : LoopbackServer.ClosedPort())], new RoundRobinPolicy());
        var options = new WebOptions("web1", root, ["/api/"], apps) { AccessLog = accessLog };
        options = configure?.Invoke(options) ?? options;
        var forwarder = new HttpForwarder(ForwarderClient.Create(), NullLogger<HttpForwarder>.Instance);
        WebServer? server = null;
        var http1Front = front ? new Http1Front(forwarder, options.ServerName, request => server?.Route(request)) { AccessLog = accessLog, QuietPath = WebServer.HealthPath } : null;
        var web = await LoopbackServer.StartAsync(builder => server = WebServer.Configure(builder, options, forwarder), listen => http1Front?.Use(listen), epoll: front);
        var client = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = System.Net.DecompressionMethods.None }) { BaseAddress = web.BaseUri };
        return new WebSite(app, web, client, accessLog, server!, options, http1Front);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _web.DisposeAsync();
        await _app.DisposeAsync();
        await _stop.CancelAsync();
        await _logging;
        _stop.Dispose();
    }
}
