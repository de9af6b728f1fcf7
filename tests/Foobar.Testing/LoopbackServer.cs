using System.Net;
using System.Net.Sockets;
using Foobar.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Foobar.Testing;

/// <summary>A real Kestrel server on 127.0.0.1 and a free port, for functional tests: HTTP/1.1, and HTTP/2 with prior knowledge.</summary>
public sealed class LoopbackServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackServer(WebApplication app, Uri baseUri)
    {
        _app = app;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>The listener's address and port.</summary>
    public IPEndPoint EndPoint => new(IPAddress.Parse(BaseUri.Host), BaseUri.Port);

    public static Task<LoopbackServer> StartAsync(RequestDelegate handler) => StartAsync(app => app.Run(handler));

    /// <summary>
    /// Starts a server; <paramref name="listen"/> adds to the listener (connection middleware, TLS)
    /// after prior-knowledge HTTP/2; with <paramref name="epoll"/> on Foobar's own transport, as
    /// Foobar's servers run, else on Kestrel's sockets.
    /// </summary>
    public static async Task<LoopbackServer> StartAsync(Action<WebApplication> configure, Action<ListenOptions>? listen = null, bool epoll = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (epoll)
        {
            KestrelSettings.UseEpollTransport(builder.WebHost);
        }
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AllowAlternateSchemes = true;
            k.Listen(IPAddress.Loopback, 0, options =>
            {
                options.UseHttp2PriorKnowledge();
                listen?.Invoke(options);
            });
        });
        var app = builder.Build();
        configure(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new LoopbackServer(app, new Uri(address.EndsWith('/') ? address : address + "/"));
    }

    /// <summary>An address nothing listens on: connections are refused.</summary>
    public static Uri ClosedPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return new Uri($"http://127.0.0.1:{((IPEndPoint)socket.LocalEndPoint!).Port}/");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
