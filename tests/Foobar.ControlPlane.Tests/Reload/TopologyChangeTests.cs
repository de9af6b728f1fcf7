using Foobar.ControlPlane.Reload;
using Foobar.Topology.Loading;

namespace Foobar.ControlPlane.Tests.Reload;

public class TopologyChangeTests
{
    private const string Base = """
        domain: foobar.com
        network: { range: 127.10.0.0/24 }
        servers:
          lb1:  { roles: [lb] }
          lb2:  { roles: [lb] }
          web1: { roles: [web] }
          web2: { roles: [web] }
          app1: { roles: [app] }
          db1:  { roles: [db], db: primary }

        """;

    private static Topology.Topology Parse(string yaml) => TopologyLoader.Parse(yaml, "test.yaml", "/srv/foobar");

    private static InvalidOperationException Refused(string before, string after) =>
        Assert.Throws<InvalidOperationException>(() => TopologyChange.Between(Parse(before), Parse(after)));

    [Fact]
    public void Between_WebAndAppServersAddedRemovedOrReweighted_IsAReload()
    {
        var after = Base.Replace("  web2: { roles: [web] }\n", "", StringComparison.Ordinal)
            .Replace("  web1: { roles: [web] }", "  web1: { roles: [web], address: 127.10.0.4, weight: 3 }", StringComparison.Ordinal)
            .Replace("  app1: { roles: [app] }", "  app1: { roles: [app], address: 127.10.0.6 }", StringComparison.Ordinal)
            .Replace("  db1:  { roles: [db], db: primary }", "  db1:  { roles: [db], db: primary, address: 127.10.0.7 }", StringComparison.Ordinal)
            + "  web3: { roles: [web], maxconn: 100 }\n  app2: { roles: [app] }\n";

        var change = TopologyChange.Between(Parse(Base), Parse(after));

        Assert.Equal(["web3", "app2"], change.Added.Select(s => s.Name));
        Assert.Equal(["web2"], change.Removed.Select(s => s.Name));
        Assert.Equal(["web1"], change.Reweighted.Select(s => s.Name));
        Assert.Equal("added web3, app2; removed web2; changed the weight, backup or maxconn of web1", change.ToString());
    }

    [Fact]
    public void Between_TheSameServers_IsEmpty()
    {
        var change = TopologyChange.Between(Parse(Base), Parse(Base));

        Assert.True(change.IsEmpty);
        Assert.Equal("nothing changed", change.ToString());
    }

    [Theory]
    [InlineData("lb: { balance: leastconn }\n", "lb changed")]
    [InlineData("web: { port: 8081 }\n", "web (port, check_path, check_interval, access_log) changed")]
    [InlineData("web: { access_log: json, proxy: [/auth/] }\n", "web (port, check_path, check_interval, access_log) changed")]
    [InlineData("db: { semi_sync_timeout: 2s }\n", "db changed")]
    [InlineData("public: { http: 8080 }\n", "public changed")]
    [InlineData("admin: { port: 9999 }\n", "admin changed")]
    public void Between_TierSettingsChanged_IsRefusedNamingThem(string settings, string expected)
    {
        var e = Refused(Base, Base + settings);

        Assert.Contains(expected, e.Message);
        Assert.Contains("'foobar down', then 'foobar up'", e.Message);
    }

    [Theory]
    [InlineData("web: { proxy: [/api/, /auth/] }\n")]
    [InlineData("web: { static: [/assets/] }\n")]
    [InlineData("web: { cache_control: { /assets/: no-cache } }\n")]
    [InlineData("web: { root: . }\n")]
    public void Between_WebRootPrefixesOrCacheControlChanged_IsAppliedByTheWebServers(string settings)
    {
        var change = TopologyChange.Between(Parse(Base), Parse(Base + settings));

        Assert.True(change.WebSettings);
        Assert.False(change.IsEmpty);
        Assert.Equal("changed the web servers' root, prefixes or Cache-Control rules", change.ToString());
    }

    [Theory]
    [InlineData("  lb3:  { roles: [lb] }\n", "servers.lb3: a server with the roles lb cannot be added by a reload")]
    [InlineData("  db2:  { roles: [db], db: replica }\n", "servers.db2: a server with the roles db cannot be added by a reload")]
    [InlineData("  both: { roles: [app, dns] }\n", "servers.both: a server with the roles app, dns cannot be added")]
    public void Between_ServersOfOtherRolesAdded_AreRefused(string server, string expected) =>
        Assert.Contains(expected, Refused(Base, Base + server).Message);

    [Fact]
    public void Between_ADbServerRemoved_IsRefused() =>
        Assert.Contains("servers.db1: a server with the roles db cannot be removed", Refused(Base, Base.Replace("  db1:  { roles: [db], db: primary }\n", "", StringComparison.Ordinal)).Message);

    [Fact]
    public void Between_ANewServerInTheMiddle_ShiftsAddressesAndIsRefusedWithTheWayOut()
    {
        var after = Base.Replace("  app1:", "  web3: { roles: [web] }\n  app1:", StringComparison.Ordinal);

        var e = Refused(Base, after);

        Assert.Contains("servers.app1: its address would change from 127.10.0.6 to 127.10.0.7", e.Message);
        Assert.Contains("add new servers at the end", e.Message);
    }

    [Fact]
    public void Between_RolesOfAServerChanged_IsRefused() =>
        Assert.Contains("servers.web2: its roles changed",
            Refused(Base, Base.Replace("  web2: { roles: [web] }", "  web2: { roles: [web, app] }", StringComparison.Ordinal)).Message);
}
