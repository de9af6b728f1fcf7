using System.Net;

namespace Foobar.Topology.Tests;

public class AddressPlanTests
{
    private static readonly AddressRange Range = AddressRange.Parse("127.20.0.0/24");

    [Fact]
    public void PublicAddress_Default_IsTheFirstHost()
    {
        Assert.Equal(IPAddress.Parse("127.20.0.1"), AddressPlan.PublicAddress(Range, null));
    }

    [Fact]
    public void Assign_NoExplicitAddresses_AreConsecutiveAfterThePublicAddress()
    {
        var plan = AddressPlan.Assign(Range, IPAddress.Parse("127.20.0.1"), [null, null, null]);

        Assert.Equal(["127.20.0.2", "127.20.0.3", "127.20.0.4"], plan.Select(a => a!.ToString()));
    }

    [Fact]
    public void Assign_ExplicitAddresses_AreKeptAndSkipped()
    {
        var plan = AddressPlan.Assign(Range, IPAddress.Parse("127.20.0.1"), [null, IPAddress.Parse("127.20.0.3"), null]);

        Assert.Equal(["127.20.0.2", "127.20.0.3", "127.20.0.4"], plan.Select(a => a!.ToString()));
    }

    [Fact]
    public void Assign_PublicAddressInTheMiddle_IsNotGivenToAServer()
    {
        var plan = AddressPlan.Assign(Range, IPAddress.Parse("127.20.0.2"), [null, null]);

        Assert.Equal(["127.20.0.1", "127.20.0.3"], plan.Select(a => a!.ToString()));
    }

    [Fact]
    public void Assign_RangeExhausted_LeavesTheRestUnassigned()
    {
        // 6 hosts: .1 public, .6 control plane, .2 to .5 for servers.
        var small = AddressRange.Parse("127.20.0.0/29");
        var plan = AddressPlan.Assign(small, IPAddress.Parse("127.20.0.1"), [null, null, null, null, null]);

        Assert.Equal(["127.20.0.2", "127.20.0.3", "127.20.0.4", "127.20.0.5"], plan.Take(4).Select(a => a!.ToString()));
        Assert.Null(plan[4]);
    }

    [Fact]
    public void ControlAddress_IsTheLastHostAndNeverGivenToAServer()
    {
        var topology = TopologyText.Parse(TopologyText.Valid);

        Assert.Equal(IPAddress.Parse("127.10.0.254"), topology.ControlAddress);
        Assert.DoesNotContain(topology.Servers, s => s.Address.Equals(topology.ControlAddress));
    }

    [Fact]
    public void Parse_MovedRange_RenumbersEveryServer()
    {
        var topology = TopologyText.Parse(TopologyText.Valid.Replace("127.10.0.0/24", "127.77.3.0/24"));

        Assert.All(topology.Servers, s => Assert.StartsWith("127.77.3.", s.Address.ToString()));
        Assert.Equal(IPAddress.Parse("127.77.3.1"), topology.Public.Address);
    }

    [Fact]
    public void Parse_TooManyServersForRange_SaysToWidenIt()
    {
        var e = Assert.Throws<Foobar.Topology.Loading.TopologyException>(() => TopologyText.Parse(TopologyText.Valid.Replace("127.10.0.0/24", "127.10.0.0/30")));

        // A /30 has two hosts: the public address and the control plane's.
        Assert.Equal(["servers.lb1", "servers.web1", "servers.app1"], e.Problems.Select(p => p.Key));
        Assert.All(e.Problems, p => Assert.Contains("no address left", p.Message));
        Assert.All(e.Problems, p => Assert.Contains("network.range", p.Fix));
    }

    [Fact]
    public void Parse_ServerOnTheControlAddress_IsADuplicate()
    {
        var problem = TopologyText.SingleProblem(TopologyText.Valid.Replace("app1: { roles: [app] }", "app1: { roles: [app], address: 127.10.0.254 }"));

        Assert.Equal("servers.app1.address", problem.Key);
        Assert.Contains("already used by the control plane", problem.Message);
    }

    [Theory]
    [InlineData("127.20.0.0", false)]
    [InlineData("127.20.0.1", true)]
    [InlineData("127.20.0.254", true)]
    [InlineData("127.20.0.255", false)]
    [InlineData("127.21.0.1", false)]
    public void Contains_HostsOnly(string address, bool expected)
    {
        Assert.Equal(expected, Range.Contains(IPAddress.Parse(address)));
    }
}
