using System.Net;
using System.Net.Sockets;
using System.Text;
using Foobar.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Foobar.LoadBalancer.Tests;

public class PublicAddressClaimTests
{
    private static IPEndPoint FreeEndPoint()
    {
        var closed = LoopbackServer.ClosedPort();
        return new IPEndPoint(IPAddress.Loopback, closed.Port);
    }

    private static PublicAddressClaim Claim(IPEndPoint endPoint, string name, TimeSpan? idle = null) =>
        new(endPoint, app => app.Run(context => context.Response.WriteAsync(name)), TimeSpan.FromMilliseconds(50), TimeProvider.System, NullLogger.Instance)
        {
            IdleTimeout = idle,
        };

    [Fact]
    public async Task TwoClaims_OneOwner_AndTheStandbyTakesOverWhenTheOwnerLetsGo()
    {
        var endPoint = FreeEndPoint();
        await using var first = Claim(endPoint, "first");
        await using var second = Claim(endPoint, "second");
        using var stopFirst = new CancellationTokenSource();
        using var stopSecond = new CancellationTokenSource();
        var firstRun = first.RunAsync(stopFirst.Token);
        await Eventually.TrueAsync(() => first.Held, "the first claim holds the address");
        var secondRun = second.RunAsync(stopSecond.Token);
        using var http = new HttpClient();

        Assert.Equal("first", await http.GetStringAsync(new Uri($"http://{endPoint}/")));
        Assert.False(second.Held);

        await stopFirst.CancelAsync();
        await firstRun;
        await Eventually.TrueAsync(() => second.Held, "the standby takes the address");
        Assert.Equal("second", await http.GetStringAsync(new Uri($"http://{endPoint}/")));
        await stopSecond.CancelAsync();
        await secondRun;
    }

    [Fact]
    public async Task AClaimThatWaitsForNudges_TakesTheAddressWhenNudged_AndIsStillStandbyBefore()
    {
        var endPoint = FreeEndPoint();
        using var holder = new TcpListener(endPoint);
        holder.Start();
        await using var claim = new PublicAddressClaim(endPoint, app => app.Run(context => context.Response.WriteAsync("nudged")),
            PublicAddressClaim.WhenNudged, TimeProvider.System, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var run = claim.RunAsync(stop.Token);

        // Taken by someone else at its first look: standby. A nudge while the address is still taken changes nothing.
        Assert.False(claim.IsFree());
        claim.Nudge();
        claim.Nudge();
        Assert.False(claim.Held);
        holder.Stop();
        claim.Nudge();

        await Eventually.TrueAsync(() => claim.Held, "the nudged claim takes the address");
        using var http = new HttpClient();
        Assert.Equal("nudged", await http.GetStringAsync(new Uri($"http://{endPoint}/")));
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task IdleClientConnection_IsClosedAfterTheIdleTimeout()
    {
        var endPoint = FreeEndPoint();
        await using var claim = Claim(endPoint, "lb", idle: TimeSpan.FromSeconds(1));
        using var stop = new CancellationTokenSource();
        var run = claim.RunAsync(stop.Token);
        await Eventually.TrueAsync(() => claim.Held, "the claim holds the address");
        using var client = new TcpClient();
        await client.ConnectAsync(endPoint);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));

        // Kestrel checks idle connections once a second: closed within a few, long before its default 130 s.
        var elapsed = await RawHttp.TimeAsync(async () =>
        {
            var answer = await RawHttp.ReadUntilClosedAsync(stream, TimeSpan.FromSeconds(30));
            Assert.Equal("200", RawHttp.StatusOf(answer));
        });

        Assert.InRange(elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(20));
        await stop.CancelAsync();
        await run;
    }
}
