using System.Net;
using Foobar.Http.Backends;
using Foobar.Http.Forwarder;
using Foobar.Http.LoadBalancing;
using Foobar.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Foobar.Http.Tests.Forwarder;

/// <summary>A front server named "front" that forwards everything to the given backends.</summary>
internal sealed class ForwarderFixture : IAsyncDisposable
{
    private readonly LoopbackServer _front;

    private ForwarderFixture(LoopbackServer front, BackendPool pool)
    {
        _front = front;
        Pool = pool;
        Client = new HttpClient { BaseAddress = front.BaseUri };
    }

    public BackendPool Pool { get; }

    public HttpClient Client { get; }

    public Uri BaseUri => _front.BaseUri;

    public static Task<ForwarderFixture> StartAsync(params (string Name, Uri Uri)[] backends) =>
        StartAsync(new BackendPool(backends.Select(b => new Backend(b.Name, b.Uri)).ToList(), new RoundRobinPolicy()));

    public static async Task<ForwarderFixture> StartAsync(BackendPool pool, bool http2Backends = false, TimeSpan? responseTimeout = null, ILogger<HttpForwarder>? logger = null,
        IPAddress? localAddress = null)
    {
        var forwarder = new HttpForwarder(ForwarderClient.Create(localAddress: localAddress), logger ?? NullLogger<HttpForwarder>.Instance)
        {
            Http2Backends = http2Backends,
            ResponseTimeout = responseTimeout ?? TimeSpan.FromSeconds(60),
            LocalAddress = localAddress,
        };
        var front = await LoopbackServer.StartAsync(context => forwarder.ForwardAsync(context, pool, "front"));
        return new ForwarderFixture(front, pool);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _front.DisposeAsync();
    }
}
