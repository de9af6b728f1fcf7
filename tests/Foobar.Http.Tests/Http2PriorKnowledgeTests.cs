using System.Net;
using System.Net.Sockets;
using System.Text;
using Foobar.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Foobar.Http.Tests;

/// <summary>A listener set up by <see cref="KestrelSettings"/> speaks HTTP/1.1 and prior-knowledge HTTP/2 on one cleartext port.</summary>
public sealed class Http2PriorKnowledgeTests : IAsyncLifetime
{
    private WebApplication? _app;
    private Uri _base = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        KestrelSettings.Apply(builder.WebHost, null, kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.Run(context => context.Response.WriteAsync($"{context.Request.Protocol} {context.Request.Scheme} {context.Request.IsHttps}"));
        await _app.StartAsync();
        _base = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public async Task DisposeAsync()
    {
        await _app!.StopAsync();
        await _app.DisposeAsync();
    }

    private static HttpClient Client(Version version) => new(new SocketsHttpHandler { UseProxy = false })
    {
        DefaultRequestVersion = version,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    [Fact]
    public async Task Http11Client_IsServedHttp11()
    {
        using var client = Client(HttpVersion.Version11);

        using var response = await client.GetAsync(_base);

        Assert.Equal(HttpVersion.Version11, response.Version);
        Assert.Equal("HTTP/1.1 http False", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task PriorKnowledgeHttp2Client_IsServedHttp2_ManyStreamsOnOneConnection()
    {
        using var client = Client(HttpVersion.Version20);

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
        {
            using var response = await client.GetAsync(new Uri(_base, $"/{i}"));
            return (response.Version, Body: await response.Content.ReadAsStringAsync());
        }));

        Assert.All(answers, a => Assert.Equal((HttpVersion.Version20, "HTTP/2 http False"), a));
    }

    [Fact]
    public async Task ClientThatOpensAConnectionAndSendsNothing_IsCut()
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _base.Port);
        var stream = client.GetStream();
        // Half the preface, then silence: neither protocol can start.
        await stream.WriteAsync(Encoding.ASCII.GetBytes("PRI * HTTP/2.0\r\n"));

        var elapsed = await RawHttp.TimeAsync(() => RawHttp.ReadUntilClosedAsync(stream, TimeSpan.FromSeconds(60)));

        Assert.InRange(elapsed, KestrelSettings.RequestHeadersTimeout - TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task RequestLineStartingLikeThePreface_IsPlainHttp11()
    {
        var response = await RawHttp.ExchangeAsync(IPAddress.Loopback, _base.Port, "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");

        Assert.Equal("200", RawHttp.StatusOf(response));
        Assert.Contains("HTTP/1.1 http False", response);
    }
}
