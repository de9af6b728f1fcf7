using System.IO.Pipelines;
using System.Net;
using Foobar.Http.Backends;
using Foobar.Http.Forwarder.Http1;
using Foobar.Http.LoadBalancing;
using Foobar.Testing;

namespace Foobar.Http.Tests.Forwarder.Http1;

/// <summary>
/// The lean path (body-less GET/HEAD from HTTP/1.1 clients) against backends that answer exactly
/// the bytes a test gives them.
/// </summary>
public class Http1ExchangeTests
{
    private const string Ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

    private static Task<ForwarderFixture> FrontOf(ScriptedBackend backend, TimeSpan? responseTimeout = null) =>
        ForwarderFixture.StartAsync(new BackendPool([new Backend("b", backend.BaseUri)], new RoundRobinPolicy()), responseTimeout: responseTimeout);

    private static async Task<string> GetAsync(ForwarderFixture fixture, string path = "/")
    {
        using var response = await fixture.Client.GetAsync(new Uri(path, UriKind.Relative));
        return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
    }

    [Fact]
    public async Task KeepAlive_ManyRequests_OneBackendConnection()
    {
        await using var backend = ScriptedBackend.Answering(Ok);
        await using var fixture = await FrontOf(backend);

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("200 ok", await GetAsync(fixture));
        }

        Assert.Equal(1, backend.Connections);
    }

    [Fact]
    public void AnIdleConnectionOfALoop_IsTakenByACallerOnNoLoop()
    {
        var connections = BackendConnections.For(new Backend("b", new Uri("http://127.0.0.1:1/")));
        var idle = new BackendConnection(new Microsoft.AspNetCore.Connections.DefaultConnectionContext("idle", new DuplexPipe(new Pipe().Reader, new Pipe().Writer), new DuplexPipe(new Pipe().Reader, new Pipe().Writer)),
            connections, loop: 0);
        connections.Return(idle);

        // The test's thread is on no loop: a connection of any loop will do.
        Assert.Same(idle, connections.TakeIdle());
        Assert.Null(connections.TakeIdle());
    }

    [Fact]
    public async Task AKeptConnectionThatFailsToSend_IsReplacedByANewOne()
    {
        await using var backend = ScriptedBackend.Answering(Ok);
        var target = new Backend("b", backend.BaseUri);
        await using var fixture = await ForwarderFixture.StartAsync(new BackendPool([target], new RoundRobinPolicy()));
        // A kept connection whose transport failed to send (the backend's process died): what
        // the transport reports is the reset, when the request is flushed.
        var output = new Pipe();
        output.Reader.Complete(new Microsoft.AspNetCore.Connections.ConnectionResetException("Connection reset by peer"));
        var broken = new BackendConnection(
            new Microsoft.AspNetCore.Connections.DefaultConnectionContext("broken", new DuplexPipe(new Pipe().Reader, output.Writer), new DuplexPipe(new Pipe().Reader, new Pipe().Writer)),
            BackendConnections.For(target), Foobar.Http.Transport.EpollLoop.Count) { Requests = 1 };
        BackendConnections.For(target).Return(broken);

        Assert.Equal("200 ok", await GetAsync(fixture));
        Assert.Equal(1, backend.Connections);
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => input;

        public PipeWriter Output => output;
    }

    [Fact]
    public async Task ChunkedResponse_IsDecoded_TrailersDropped_AndTheConnectionKept()
    {
        await using var backend = ScriptedBackend.Answering(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: 1\r\n\r\n");
        await using var fixture = await FrontOf(backend);

        Assert.Equal("200 hello world", await GetAsync(fixture));
        Assert.Equal("200 hello world", await GetAsync(fixture));
        Assert.Equal(1, backend.Connections);
    }

    [Fact]
    public async Task BackendSaysConnectionClose_TheNextRequestOpensANewConnection()
    {
        await using var backend = ScriptedBackend.Start(async exchange =>
        {
            await exchange.SendAsync("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
            exchange.Close = true;
        });
        await using var fixture = await FrontOf(backend);

        Assert.Equal("200 ok", await GetAsync(fixture));
        Assert.Equal("200 ok", await GetAsync(fixture));
        Assert.Equal(2, backend.Connections);
    }

    [Fact]
    public async Task KeptConnectionClosedAsTheRequestArrives_IsRetriedOnANewOne_AndNotHeldAgainstTheBackend()
    {
        // The race every pool has: the backend drops an idle connection just as a request is sent on it.
        await using var backend = ScriptedBackend.Start(async exchange =>
        {
            if (exchange.Number == 2)
            {
                exchange.Close = true;
                return;
            }
            await exchange.SendAsync(Ok);
        });
        await using var fixture = await FrontOf(backend);

        Assert.Equal("200 ok", await GetAsync(fixture));
        Assert.Equal("200 ok", await GetAsync(fixture));

        Assert.Equal(2, backend.Connections);
        Assert.Equal(0, fixture.Pool.Backends[0].Failures);
        Assert.Equal(BackendState.Up, fixture.Pool.Backends[0].State);
    }

    [Fact]
    public async Task InterimResponses_AreSkipped()
    {
        await using var backend = ScriptedBackend.Answering(
            "HTTP/1.1 103 Early Hints\r\nLink: </site.css>; rel=preload\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n" + Ok);
        await using var fixture = await FrontOf(backend);

        Assert.Equal("200 ok", await GetAsync(fixture));
        Assert.Equal("200 ok", await GetAsync(fixture));
    }

    [Fact]
    public async Task HeadAnd304_HaveNoBody_WhateverTheirHeadersSay_AndTheConnectionStaysInStep()
    {
        await using var backend = ScriptedBackend.Start(exchange => exchange.SendAsync(
            exchange.Head.StartsWith("HEAD", StringComparison.Ordinal) ? "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
            : exchange.Head.Contains("/cached", StringComparison.Ordinal) ? "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n"
            : Ok));
        await using var fixture = await FrontOf(backend);

        using (var head = await fixture.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, new Uri("/", UriKind.Relative))))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(1000, head.Content.Headers.ContentLength);
        }
        using (var cached = await fixture.Client.GetAsync(new Uri("/cached", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotModified, cached.StatusCode);
            Assert.Equal("\"v1\"", cached.Headers.ETag?.Tag);
        }
        Assert.Equal("200 ok", await GetAsync(fixture));
        Assert.Equal(1, backend.Connections);
    }

    [Fact]
    public async Task RepeatedHeaders_AllReachTheClient()
    {
        await using var backend = ScriptedBackend.Answering(
            "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nContent-Length: 2\r\nSet-Cookie: b=2\r\nCache-Control: no-store\r\n\r\nok");
        await using var fixture = await FrontOf(backend);

        using var response = await fixture.Client.GetAsync(new Uri("/", UriKind.Relative));

        Assert.Equal(["a=1", "b=2"], response.Headers.GetValues("Set-Cookie"));
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task BodyUntilClose_ReachesTheClient_AndTheConnectionIsNotReused()
    {
        await using var backend = ScriptedBackend.Start(async exchange =>
        {
            await exchange.SendAsync("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it");
            exchange.Close = true;
        });
        await using var fixture = await FrontOf(backend);

        Assert.Equal("200 all of it", await GetAsync(fixture));
        Assert.Equal("200 all of it", await GetAsync(fixture));
        Assert.Equal(2, backend.Connections);
    }

    [Fact]
    public async Task BodyShorterThanItsContentLength_CutsTheClientConnection()
    {
        await using var backend = ScriptedBackend.Start(async exchange =>
        {
            await exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf");
            exchange.Close = true;
        });
        await using var fixture = await FrontOf(backend);

        // The status is gone already: the only honest signal left is a cut connection.
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => fixture.Client.GetStringAsync(new Uri("/", UriKind.Relative)));
    }

    [Fact]
    public async Task InvalidChunkSize_CutsTheClientConnection_AndTheBackendConnectionIsDropped()
    {
        await using var backend = ScriptedBackend.Start(exchange => exchange.SendAsync(exchange.Connection == 1
            ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"
            : Ok));
        await using var fixture = await FrontOf(backend);

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => fixture.Client.GetStringAsync(new Uri("/", UriKind.Relative)));
        Assert.Equal("200 ok", await GetAsync(fixture));
        Assert.Equal(2, backend.Connections);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", "two different Content-Length values")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", "both Content-Length and Transfer-Encoding")]
    [InlineData("HTTP/1.1 200 OK\r\nX-Old: a\r\n  folded\r\nContent-Length: 2\r\n\r\nok", "malformed header line")]
    [InlineData("HTTP/1.1 200 OK\r\nBad Name: x\r\nContent-Length: 2\r\n\r\nok", "malformed header line")]
    [InlineData("HTTP/1.1 200 OK\r\nX-Ctl: a\u0001b\r\nContent-Length: 2\r\n\r\nok", "control character")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\nok", "invalid Content-Length")]
    [InlineData("HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok", "malformed status line")]
    [InlineData("HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok", "malformed status line")]
    [InlineData("SMTP READY\r\n\r\n", "malformed status line")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", "closed the connection in the middle of the response head")]
    public async Task MalformedOrAmbiguousResponse_Is502_AndCountsAgainstTheBackend(string answer, string why)
    {
        await using var backend = ScriptedBackend.Start(async exchange =>
        {
            await exchange.SendAsync(answer);
            exchange.Close = true;
        });
        var log = new ListLogger<Foobar.Http.Forwarder.HttpForwarder>();
        await using var fixture = await ForwarderFixture.StartAsync(new BackendPool([new Backend("b", backend.BaseUri)], new RoundRobinPolicy()), logger: log);

        using var response = await fixture.Client.GetAsync(new Uri("/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(1, fixture.Pool.Backends[0].Failures);
        Assert.Contains(log.Messages, message => message.Contains(why, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ResponseHeadOver64KB_Is502()
    {
        await using var backend = ScriptedBackend.Start(async exchange =>
        {
            await exchange.SendAsync("HTTP/1.1 200 OK\r\n" + string.Concat(Enumerable.Range(0, 700).Select(i => $"X-Filler-{i}: {new string('x', 100)}\r\n")));
            exchange.Close = true;
        });
        await using var fixture = await FrontOf(backend);

        using var response = await fixture.Client.GetAsync(new Uri("/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
    }

    [Fact]
    public async Task BackendSilentPastTheResponseTimeout_Is504()
    {
        using var release = new SemaphoreSlim(0);
        await using var backend = ScriptedBackend.Start(async exchange =>
        {
            await release.WaitAsync(TimeSpan.FromSeconds(30));
            exchange.Close = true;
        });
        await using var fixture = await FrontOf(backend, responseTimeout: TimeSpan.FromMilliseconds(300));

        using var response = await fixture.Client.GetAsync(new Uri("/", UriKind.Relative));
        release.Release();

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("did not answer", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Http10ClientWithoutHost_TheBackendGetsItsOwnAuthority()
    {
        await using var backend = ScriptedBackend.Answering(Ok);
        await using var fixture = await FrontOf(backend);

        var response = await RawHttp.ExchangeAsync(IPAddress.Loopback, fixture.BaseUri.Port, "GET /old HTTP/1.0\r\n\r\n");

        Assert.Equal("200", RawHttp.StatusOf(response));
        var head = Assert.Single(backend.Requests);
        Assert.StartsWith("GET /old HTTP/1.1\r\n", head);
        Assert.Contains($"\r\nHost: {backend.BaseUri.Authority}\r\n", head);
    }
}
