using System.Net;
using Foobar.Http.Backends;
using Foobar.Http.Forwarder;
using Foobar.Http.LoadBalancing;
using Foobar.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Foobar.LoadBalancer.Tests;

public class BodyLimitTests
{
    private const long Limit = 1000;

    private static async Task<(LoopbackServer Front, LoopbackServer Web, Func<int> Reached)> StartAsync()
    {
        var reached = 0;
        var web = await LoopbackServer.StartAsync((RequestDelegate)(async context =>
        {
            Interlocked.Increment(ref reached);
            var body = await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted);
            await context.Response.WriteAsync($"got {body.Length}");
        }));
        var pool = new BackendPool([new Backend("web1", web.BaseUri)], new RoundRobinPolicy());
        var forwarder = new HttpForwarder(ForwarderClient.Create(), NullLogger<HttpForwarder>.Instance);
        var front = await LoopbackServer.StartAsync(app => LoadBalancer.Configure(app, "lb1", pool, forwarder, Limit));
        return (front, web, () => Volatile.Read(ref reached));
    }

    [Fact]
    public async Task DeclaredBodyOverTheLimit_Is413_WithoutAskingAWebServer()
    {
        var (front, web, reached) = await StartAsync();
        await using var _ = front;
        await using var __ = web;

        var response = await RawHttp.ExchangeAsync(IPAddress.Loopback, front.BaseUri.Port,
            "POST /api/entries HTTP/1.1\r\nHost: www.foobar.com\r\nContent-Length: 40000000\r\n\r\nonly the start");

        Assert.Equal("413", RawHttp.StatusOf(response));
        Assert.Contains("the body of 40000000 bytes is over this site's limit of 1000 bytes", response);
        Assert.Contains("Connection: close", response);
        Assert.Equal(0, reached());
    }

    [Fact]
    public async Task ChunkedBodyGrowingOverTheLimit_Is413()
    {
        var (front, web, _) = await StartAsync();
        await using var _ = front;
        await using var __ = web;
        var chunk = new string('x', 600);

        var response = await RawHttp.ExchangeAsync(IPAddress.Loopback, front.BaseUri.Port,
            $"POST /api/entries HTTP/1.1\r\nHost: www.foobar.com\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n{chunk}\r\n258\r\n{chunk}\r\n0\r\n\r\n");

        Assert.Equal("413", RawHttp.StatusOf(response));
    }

    [Fact]
    public async Task BodyAtTheLimit_IsForwarded()
    {
        var (front, web, reached) = await StartAsync();
        await using var _ = front;
        await using var __ = web;
        using var client = new HttpClient { BaseAddress = front.BaseUri };

        using var response = await client.PostAsync(new Uri("/api/entries", UriKind.Relative), new StringContent(new string('x', (int)Limit)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("got 1000", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, reached());
    }
}
