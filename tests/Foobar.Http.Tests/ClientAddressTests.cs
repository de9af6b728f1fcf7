using System.Net;
using Microsoft.AspNetCore.Http;

namespace Foobar.Http.Tests;

public class ClientAddressTests
{
    // The site's own proxies: a load balancer and a web server.
    private static readonly HashSet<IPAddress> Proxies = [IPAddress.Parse("127.10.0.3"), IPAddress.Parse("127.10.0.5")];

    private static IPAddress? ClientOf(string remote, params string[] forwardedFor)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(remote);
        if (forwardedFor.Length > 0)
        {
            context.Request.Headers["X-Forwarded-For"] = forwardedFor;
        }
        return ClientAddress.Of(context.Request, Proxies.Contains);
    }

    [Fact]
    public void DirectClient_IsTheRemoteAddress_WhateverItForwards()
    {
        Assert.Equal(IPAddress.Parse("192.0.2.9"), ClientOf("192.0.2.9", "127.10.0.3"));
    }

    [Fact]
    public void ThroughLoadBalancerAndWebServer_IsTheAddressTheLoadBalancerSaw()
    {
        Assert.Equal(IPAddress.Parse("192.0.2.9"), ClientOf("127.10.0.5", "192.0.2.9, 127.10.0.3"));
    }

    [Fact]
    public void SpoofedEntriesLeftOfTheRealClient_AreNotBelieved()
    {
        // The client sent "X-Forwarded-For: 198.51.100.1, 127.10.0.3" itself, hoping to pass for someone else or for a proxy.
        Assert.Equal(IPAddress.Parse("192.0.2.9"), ClientOf("127.10.0.5", "198.51.100.1, 127.10.0.3, 192.0.2.9, 127.10.0.3"));
    }

    [Fact]
    public void SeveralHeaderLines_ReadAsOneList()
    {
        Assert.Equal(IPAddress.Parse("192.0.2.9"), ClientOf("127.10.0.5", "198.51.100.1", "192.0.2.9, 127.10.0.3"));
    }

    [Theory]
    [InlineData("not-an-address, 127.10.0.3")]
    [InlineData(", 127.10.0.3")]
    [InlineData("<script>, 127.10.0.3")]
    public void GarbageRightOfTheClient_StopsAtTheLastTrustedHop(string header)
    {
        // A proxy never writes garbage; the hop that forwarded it is the last one known, so it is the client.
        Assert.Equal(IPAddress.Parse("127.10.0.3"), ClientOf("127.10.0.5", header));
    }

    [Fact]
    public void OnlyProxiesInTheChain_IsTheLeftmost()
    {
        // A health check the load balancer sends on its own account.
        Assert.Equal(IPAddress.Parse("127.10.0.3"), ClientOf("127.10.0.5", "127.10.0.3"));
        Assert.Equal(IPAddress.Parse("127.10.0.5"), ClientOf("127.10.0.5"));
    }

    [Fact]
    public void MappedIPv4_IsPlainIPv4()
    {
        Assert.Equal(IPAddress.Parse("192.0.2.9"), ClientOf("::ffff:192.0.2.9"));
        Assert.Equal(IPAddress.Parse("192.0.2.9"), ClientOf("::ffff:127.10.0.5", "192.0.2.9"));
    }
}
