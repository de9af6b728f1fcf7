using System.Net;
using Foobar.Server.Admin;
using Foobar.Testing;
using Microsoft.AspNetCore.Http;

namespace Foobar.ControlPlane.Tests.Health;

public class ServerHealthClientTests
{
    private static IPEndPoint EndPointOf(Uri uri) => new(IPAddress.Parse(uri.Host), uri.Port);

    [Fact]
    public async Task NotReadyServer_AnsweringWith503_IsAliveAndItsReportIsRead()
    {
        var report = new ServerHealthReport("lb1", 42, DateTimeOffset.UnixEpoch, false, [new RoleHealth("lb", RoleStates.Ready, "active")]);
        await using var server = await LoopbackServer.StartAsync(context =>
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return context.Response.WriteAsJsonAsync(report);
        });
        using var client = new HttpClient();

        var read = await ServerHealthClient.GetAsync(client, EndPointOf(server.BaseUri), CancellationToken.None);

        Assert.Equal(("lb1", 42, false), (read!.Server, read.Pid, read.Ready));
        Assert.Equal("ready", read.Roles.Single().State);
    }

    [Fact]
    public async Task NoAnswerOrNoReport_IsNull()
    {
        await using var garbage = await LoopbackServer.StartAsync(context => context.Response.WriteAsync("not json"));
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };

        Assert.Null(await ServerHealthClient.GetAsync(client, EndPointOf(garbage.BaseUri), CancellationToken.None));
        Assert.Null(await ServerHealthClient.GetAsync(client, EndPointOf(LoopbackServer.ClosedPort()), CancellationToken.None));
    }
}
