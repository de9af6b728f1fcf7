using System.Net;
using System.Text;
using Foobar.Http.Backends;
using Foobar.Testing;
using Microsoft.AspNetCore.Http;

namespace Foobar.Http.Tests.Forwarder;

public class HttpForwarderTests
{
    private static Task<LoopbackServer> NamedBackend(string name, Action<HttpContext>? seen = null) =>
        LoopbackServer.StartAsync(async context =>
        {
            seen?.Invoke(context);
            context.Response.Headers[ServedBy.HeaderName] = name;
            await context.Response.WriteAsync($"{name}:{context.Request.Method}:{context.Request.Path}{context.Request.QueryString}");
        });

    [Fact]
    public async Task Forward_TwoBackends_AlternatesAndPrefixesServedBy()
    {
        await using var a = await NamedBackend("a");
        await using var b = await NamedBackend("b");
        await using var fixture = await ForwarderFixture.StartAsync(("a", a.BaseUri), ("b", b.BaseUri));

        var chains = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await fixture.Client.GetAsync(new Uri("/page?x=1", UriKind.Relative));
            chains.Add(string.Join(",", response.Headers.GetValues(ServedBy.HeaderName)));
        }

        Assert.Equal(["front, a", "front, b", "front, a", "front, b"], chains);
    }

    [Fact]
    public async Task Forward_WithALocalAddress_ConnectsFromIt_OnTheLeanPathAndThroughHttpClient()
    {
        var seen = new List<string>();
        await using var backend = await LoopbackServer.StartAsync(async context =>
        {
            lock (seen)
            {
                seen.Add($"{context.Request.Method} {context.Connection.RemoteIpAddress}");
            }
            await context.Response.WriteAsync("ok");
        });
        var own = IPAddress.Parse("127.0.0.5");
        await using var fixture = await ForwarderFixture.StartAsync(
            new BackendPool([new Backend("b", backend.BaseUri)], new Foobar.Http.LoadBalancing.RoundRobinPolicy()), localAddress: own);

        using var get = await fixture.Client.GetAsync(new Uri("/", UriKind.Relative));
        using var post = await fixture.Client.PostAsync(new Uri("/", UriKind.Relative), new StringContent("body"));

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.Equal(["GET 127.0.0.5", "POST 127.0.0.5"], seen);
    }

    [Fact]
    public async Task Forward_PathQueryMethodAndBody_ArriveUnchanged()
    {
        string? body = null;
        await using var backend = await LoopbackServer.StartAsync(async context =>
        {
            body = await new StreamReader(context.Request.Body).ReadToEndAsync();
            await context.Response.WriteAsync($"{context.Request.Method} {context.Request.Path.Value}{context.Request.QueryString}");
        });
        await using var fixture = await ForwarderFixture.StartAsync(("a", backend.BaseUri));

        using var response = await fixture.Client.PutAsync(new Uri("/api/a%20b/c?q=%C3%A9&r=2", UriKind.Relative), new StringContent("héllo", Encoding.UTF8));

        Assert.Equal("PUT /api/a b/c?q=%C3%A9&r=2", await response.Content.ReadAsStringAsync());
        Assert.Equal("héllo", body);
    }

    [Fact]
    public async Task Forward_FirstBackendRefusesConnections_UsesTheNextAndMarksItDown()
    {
        await using var live = await NamedBackend("live");
        await using var fixture = await ForwarderFixture.StartAsync(("dead", LoopbackServer.ClosedPort()), ("live", live.BaseUri));

        // Even a POST may go to the next server: the refused connection carried nothing.
        using var response = await fixture.Client.PostAsync(new Uri("/api/sign", UriKind.Relative), new StringContent("entry"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("live:POST:/api/sign", await response.Content.ReadAsStringAsync());
        Assert.Equal(BackendState.Down, fixture.Pool.Backends[0].State);
    }

    [Fact]
    public async Task Forward_PostWhoseBodyReachedADyingBackend_IsNotReplayed()
    {
        var secondGot = 0;
        await using var dropper = await LoopbackServer.StartAsync(async context =>
        {
            await new StreamReader(context.Request.Body).ReadToEndAsync();
            context.Abort();
        });
        await using var second = await NamedBackend("second", _ => Interlocked.Increment(ref secondGot));
        await using var fixture = await ForwarderFixture.StartAsync(("dropper", dropper.BaseUri), ("second", second.BaseUri));

        using var response = await fixture.Client.PostAsync(new Uri("/api/pay", UriKind.Relative), new StringContent("100 EUR"));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(0, secondGot);
        Assert.Equal("front", string.Join(",", response.Headers.GetValues(ServedBy.HeaderName)));
    }

    [Fact]
    public async Task Forward_GetWhoseBackendDropsTheConnection_IsRetriedOnTheNext()
    {
        await using var dropper = await LoopbackServer.StartAsync(context =>
        {
            context.Abort();
            return Task.CompletedTask;
        });
        await using var second = await NamedBackend("second");
        await using var fixture = await ForwarderFixture.StartAsync(("dropper", dropper.BaseUri), ("second", second.BaseUri));

        using var response = await fixture.Client.GetAsync(new Uri("/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("front, second", string.Join(",", response.Headers.GetValues(ServedBy.HeaderName)));
    }

    [Fact]
    public async Task Forward_BackendAnsweringGarbage_GetsRetriedElsewhere_AndIsMarkedDownAfterThreeFailures()
    {
        using var garbage = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        garbage.Start();
        using var stop = new CancellationTokenSource();
        var answering = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var client = await garbage.AcceptTcpClientAsync(stop.Token);
                var stream = client.GetStream();
                _ = await stream.ReadAsync(new byte[4096], stop.Token); // the request, or part of it: the answer is garbage either way
                await stream.WriteAsync("SMTP READY\r\n\r\n"u8.ToArray(), stop.Token);
            }
        });
        await using var good = await NamedBackend("good");
        await using var fixture = await ForwarderFixture.StartAsync(("garbage", new Uri($"http://127.0.0.1:{((IPEndPoint)garbage.LocalEndpoint).Port}/")), ("good", good.BaseUri));

        for (var i = 0; i < 6; i++)
        {
            using var response = await fixture.Client.GetAsync(new Uri("/", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("front, good", string.Join(",", response.Headers.GetValues(ServedBy.HeaderName)));
        }
        using (var post = await fixture.Client.PostAsync(new Uri("/api/sign", UriKind.Relative), new StringContent("x")))
        {
            // Down by now: the POST goes straight to the good one.
            Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        }

        var garbageBackend = fixture.Pool.Backends[0];
        Assert.Equal(BackendState.Down, garbageBackend.State);
        Assert.Equal(3, garbageBackend.Failures);
        Assert.Equal(3, garbageBackend.Retried);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => answering);
    }

    [Fact]
    public async Task Forward_NoBackendUp_Returns503WithItsOwnName()
    {
        await using var fixture = await ForwarderFixture.StartAsync(("a", new Uri("http://127.0.0.1:1/")));
        fixture.Pool.Backends[0].SetState(BackendState.Down, "test");

        using var response = await fixture.Client.GetAsync(new Uri("/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("no server is up", await response.Content.ReadAsStringAsync());
        Assert.Equal("front", string.Join(",", response.Headers.GetValues(ServedBy.HeaderName)));
    }

    [Fact]
    public async Task Forward_EveryBackendRefuses_Returns502NamingThem()
    {
        await using var fixture = await ForwarderFixture.StartAsync(("a", LoopbackServer.ClosedPort()), ("b", LoopbackServer.ClosedPort()));

        using var response = await fixture.Client.GetAsync(new Uri("/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("tried a, b", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Forward_Headers_HopByHopRemovedForwardedAdded()
    {
        IHeaderDictionary? received = null;
        await using var backend = await LoopbackServer.StartAsync(context =>
        {
            received = new HeaderDictionary(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value));
            context.Response.Headers["Keep-Alive"] = "timeout=5";
            context.Response.Headers["X-Backend"] = "yes";
            return Task.CompletedTask;
        });
        await using var fixture = await ForwarderFixture.StartAsync(("a", backend.BaseUri));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Host = "www.foobar.com";
        request.Headers.TryAddWithoutValidation("Proxy-Authorization", "Basic c2VjcmV0");
        request.Headers.TryAddWithoutValidation("X-Custom", "kept");

        using var response = await fixture.Client.SendAsync(request);

        Assert.Equal("www.foobar.com", received!["Host"]);
        Assert.Equal("kept", received["X-Custom"]);
        Assert.False(received.ContainsKey("Proxy-Authorization"));
        Assert.Equal("127.0.0.1", received["X-Forwarded-For"]);
        Assert.Equal("http", received["X-Forwarded-Proto"]);
        Assert.Equal("www.foobar.com", received["X-Forwarded-Host"]);
        Assert.True(response.Headers.Contains("X-Backend"));
        Assert.False(response.Headers.Contains("Keep-Alive"));
    }

    [Fact]
    public async Task Forward_HeadersTheBackendNamesInConnection_AreNotPassedOn()
    {
        await using var backend = await LoopbackServer.StartAsync(async context =>
        {
            context.Response.Headers.Connection = "X-Internal";
            context.Response.Headers["X-Internal"] = "backend-only";
            context.Response.Headers["X-Public"] = "yes";
            await context.Response.WriteAsync("ok");
        });
        await using var fixture = await ForwarderFixture.StartAsync(("a", backend.BaseUri));

        var response = await RawHttp.ExchangeAsync(IPAddress.Loopback, fixture.BaseUri.Port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        Assert.Equal("200", RawHttp.StatusOf(response));
        Assert.DoesNotContain("X-Internal", response, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("X-Public: yes", response);
    }

    [Fact]
    public async Task Forward_RequestId_GeneratedWhenAbsent_PassedOnWhenPresent_AndReturned()
    {
        var seen = new List<string>();
        await using var backend = await NamedBackend("b", context => seen.Add(context.Request.Headers["X-Request-Id"].ToString()));
        await using var fixture = await ForwarderFixture.StartAsync(("b", backend.BaseUri));

        using var first = await fixture.Client.GetAsync(new Uri("/", UriKind.Relative));
        using var second = await fixture.Client.GetAsync(new Uri("/", UriKind.Relative));
        using var given = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));
        given.Headers.Add("X-Request-Id", "client-chosen-42");
        using var third = await fixture.Client.SendAsync(given);

        Assert.Matches("^[0-9a-f]{32}$", seen[0]);
        Assert.NotEqual(seen[0], seen[1]);
        Assert.Equal("client-chosen-42", seen[2]);
        Assert.Equal(seen[0], Assert.Single(first.Headers.GetValues("X-Request-Id")));
        Assert.Equal("client-chosen-42", Assert.Single(third.Headers.GetValues("X-Request-Id")));
    }

    [Fact]
    public async Task Forward_ExistingForwardedFor_IsAppendedTo()
    {
        string? forwardedFor = null;
        await using var backend = await LoopbackServer.StartAsync(context =>
        {
            forwardedFor = context.Request.Headers["X-Forwarded-For"];
            return Task.CompletedTask;
        });
        await using var fixture = await ForwarderFixture.StartAsync(("a", backend.BaseUri));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.7");

        using var _ = await fixture.Client.SendAsync(request);

        Assert.Equal("203.0.113.7, 127.0.0.1", forwardedFor);
    }

    [Fact]
    public async Task Forward_StatusAndLargeBody_PassThrough()
    {
        var big = new string('x', 1 << 20);
        await using var backend = await LoopbackServer.StartAsync(async context =>
        {
            context.Response.StatusCode = 404;
            await context.Response.WriteAsync(big);
        });
        await using var fixture = await ForwarderFixture.StartAsync(("a", backend.BaseUri));

        using var response = await fixture.Client.GetAsync(new Uri("/missing", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(big.Length, (await response.Content.ReadAsStringAsync()).Length);
    }
}
