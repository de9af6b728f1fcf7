using System.Net;
using Foobar.Http.Backends;
using Foobar.Http.Forwarder;
using Foobar.Http.LoadBalancing;
using Foobar.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging.Abstractions;

namespace Foobar.Http.Tests.Forwarder;

/// <summary>Per-server limits and the queue seen from a client, and client faults that must not count against a backend.</summary>
public class ForwarderLimitTests
{
    [Fact]
    public async Task Forward_ServerAtItsLimit_QueuesTheNext_AndRefusesBeyondTheQueueWith503RetryAfter()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = 0;
        await using var slow = await LoopbackServer.StartAsync(async context =>
        {
            Interlocked.Increment(ref started);
            await release.Task;
            await context.Response.WriteAsync("done");
        });
        var backend = new Backend("slow", slow.BaseUri) { MaxConcurrent = 1 };
        var pool = new BackendPool([backend], new RoundRobinPolicy(), new QueueOptions { Length = 1 });
        await using var fixture = await ForwarderFixture.StartAsync(pool);

        var first = fixture.Client.GetAsync(new Uri("/1", UriKind.Relative));
        await Eventually.TrueAsync(() => backend.ActiveRequests == 1 && Volatile.Read(ref started) == 1, "the first request in flight and at the server");
        var second = fixture.Client.GetAsync(new Uri("/2", UriKind.Relative));
        await Eventually.TrueAsync(() => pool.Queued == 1, "the second request queued");

        using var third = await fixture.Client.GetAsync(new Uri("/3", UriKind.Relative));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, third.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), third.Headers.RetryAfter?.Delta);
        Assert.Contains("every server is at its limit", await third.Content.ReadAsStringAsync());
        Assert.Equal(1, Volatile.Read(ref started));
        release.SetResult();
        using var firstResponse = await first;
        using var secondResponse = await second;
        Assert.Equal(HttpStatusCode.OK, firstResponse.StatusCode);
        Assert.Equal(HttpStatusCode.OK, secondResponse.StatusCode);
        Assert.Equal(2, Volatile.Read(ref started));
        Assert.Equal(BackendState.Up, backend.State);
    }

    [Fact]
    public async Task Forward_MalformedChunkedBodyFromTheClient_Gets400_AndNeverCountsAgainstTheBackend()
    {
        var reached = 0;
        await using var backend = await LoopbackServer.StartAsync(async context =>
        {
            Interlocked.Increment(ref reached);
            await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted);
        });
        await using var fixture = await ForwarderFixture.StartAsync(("a", backend.BaseUri));

        for (var i = 0; i < 4; i++)
        {
            var response = await RawHttp.ExchangeAsync(IPAddress.Loopback, fixture.BaseUri.Port,
                "POST /api/sign HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZ-not-a-size\r\n\r\n");
            Assert.Equal("400", RawHttp.StatusOf(response));
        }

        var a = fixture.Pool.Backends[0];
        Assert.Equal(BackendState.Up, a.State);
        Assert.Equal(0, a.Failures);
        Assert.Equal(0, a.Retried);
    }

    [Fact]
    public async Task Forward_ChunkedBodyOverTheLimit_Gets413_AndNeverCountsAgainstTheBackend()
    {
        await using var backend = await LoopbackServer.StartAsync(async context =>
            await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted));
        var pool = new BackendPool([new Backend("a", backend.BaseUri)], new RoundRobinPolicy());
        var forwarder = new HttpForwarder(ForwarderClient.Create(), NullLogger<HttpForwarder>.Instance);
        await using var front = await LoopbackServer.StartAsync(context =>
        {
            context.Features.Get<IHttpMaxRequestBodySizeFeature>()!.MaxRequestBodySize = 10;
            return forwarder.ForwardAsync(context, pool, "front");
        });

        for (var i = 0; i < 4; i++)
        {
            var response = await RawHttp.ExchangeAsync(IPAddress.Loopback, front.BaseUri.Port,
                "POST /api/sign HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n");
            Assert.Equal("413", RawHttp.StatusOf(response));
        }

        Assert.Equal(BackendState.Up, pool.Backends[0].State);
        Assert.Equal(0, pool.Backends[0].Failures);
    }
}
