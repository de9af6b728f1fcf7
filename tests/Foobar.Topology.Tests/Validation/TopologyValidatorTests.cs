namespace Foobar.Topology.Tests.Validation;

public class TopologyValidatorTests
{
    [Fact]
    public void Validate_DuplicateAddress_PointsAtTheSecondServer()
    {
        var problem = TopologyText.SingleProblem(TopologyText.Valid
            .Replace("lb1: { roles: [lb] }", "lb1: { roles: [lb], address: 127.10.0.7 }")
            .Replace("web1: { roles: [web] }", "web1: { roles: [web], address: 127.10.0.7 }"));

        Assert.Equal("servers.web1.address", problem.Key);
        Assert.Contains("duplicate address 127.10.0.7, already used by lb1", problem.Message);
        Assert.Equal(5, problem.Line);
    }

    [Fact]
    public void Validate_HttpsWithActiveActive_ClashingWithARoleOnALoadBalancer_IsAPortClash()
    {
        var fine = TopologyText.Parse(TopologyText.Valid + "\npublic: { https: 443 }\nlb: { mode: active-active }\n");
        var problem = TopologyText.SingleProblem(TopologyText.Valid + "\npublic: { https: 443 }\nlb: { mode: active-active, port: 443 }\n");

        Assert.Equal(LbMode.ActiveActive, fine.Lb.Mode);
        Assert.Equal("servers.lb1.roles", problem.Key);
        Assert.Contains("the lb role and HTTPS (public.https) both use port 443", problem.Message);
    }

    [Fact]
    public void Validate_DbPrimaryPort_OfYourOwnApplication_ClashingWithADbServerOnTheSameServer_IsAPortClash()
    {
        var withDb = TopologyText.Valid.Replace("app1: { roles: [app] }", "app1: { roles: [app, db] }");
        var builtIn = TopologyText.Parse(withDb + "\napp: { db_primary_port: 3306 }\n");
        var problem = TopologyText.SingleProblem(withDb + "\napp: { command: ./serve, db_primary_port: 3306 }\n");

        // The built-in application reaches the primary itself: the port is not used, so no clash.
        Assert.Equal(3306, builtIn.App.DbPrimaryPort);
        Assert.Contains("the db primary endpoint and the db role (db.port) both use port 3306", problem.Message);
        Assert.Contains("app.db_primary_port", problem.Fix);
    }

    [Fact]
    public void Validate_AppTlsWithAnApplicationOfYourOwn_IsRefused()
    {
        var problem = TopologyText.SingleProblem(TopologyText.Valid + "\napp: { tls: true, command: ./serve }\n");

        Assert.Equal("app.tls", problem.Key);
        Assert.Contains("speak TLS itself", problem.Message);
    }

    [Fact]
    public void Validate_TlsEndingAtWebServersWithoutTls_SaysToTurnItOn()
    {
        var fine = TopologyText.Parse(TopologyText.Valid + "\npublic: { https: 443, terminate: web }\nweb: { tls: true }\n");
        var problem = TopologyText.SingleProblem(TopologyText.Valid + "\npublic: { https: 443, terminate: web }\n");

        Assert.Equal(TlsTermination.Web, fine.Public.Terminate);
        Assert.True(fine.Web.Tls);
        Assert.Equal("public.terminate", problem.Key);
        Assert.Contains("tls: true", problem.Fix);
    }

    [Fact]
    public void Validate_ServerOnThePublicAddress_IsADuplicate()
    {
        var problem = TopologyText.SingleProblem(TopologyText.Valid.Replace("{ roles: [web] }", "{ roles: [web], address: 127.10.0.1 }"));

        Assert.Contains("already used by the public address", problem.Message);
    }

    [Fact]
    public void Validate_AddressOutsideRange_IsReported()
    {
        var problem = TopologyText.SingleProblem(TopologyText.Valid.Replace("{ roles: [web] }", "{ roles: [web], address: 127.11.0.5 }"));

        Assert.Equal("servers.web1.address", problem.Key);
        Assert.Contains("outside network.range", problem.Message);
    }

    [Theory]
    [InlineData("lb1: { roles: [lb] }", "", "role lb")]
    [InlineData("web1: { roles: [web] }", "", "no server has the role web")]
    [InlineData("app1: { roles: [app] }", "", "no server has the role app")]
    public void Validate_RoleWithNoServer_SaysWhichRoleIsMissing(string remove, string replacement, string expected)
    {
        var problem = TopologyText.SingleProblem(TopologyText.Valid.Replace(remove, replacement));

        Assert.Equal("servers", problem.Key);
        Assert.Contains(expected, problem.Message);
        Assert.Contains("roles: [", problem.Fix);
    }

    [Fact]
    public void Validate_PortClashOnOneServer_NamesBothRolesAndThePort()
    {
        var problem = TopologyText.SingleProblem(TopologyText.Valid.Replace("lb1: { roles: [lb] }", "lb1: { roles: [lb, web] }"));

        Assert.Equal("servers.lb1.roles", problem.Key);
        Assert.Contains("the web role and the lb role (lb.port) both use port 80", problem.Message);
        Assert.Contains("web.port", problem.Fix);
    }

    [Fact]
    public void Validate_RolePortOnAdminPort_IsAClash()
    {
        var problem = TopologyText.SingleProblem(TopologyText.Valid + "\napp: { port: 9000 }\n");

        Assert.Contains("admin listener", problem.Message);
    }

    [Fact]
    public void Validate_WebAndAppOnOneServer_IsFineWithDefaultPorts()
    {
        var topology = TopologyText.Parse(TopologyText.Valid.Replace("app1: { roles: [app] }", "").Replace("[web]", "[web, app]"));

        Assert.Equal([Role.Web, Role.App], topology.Find("web1")!.Roles);
    }

    [Fact]
    public void Validate_ReplicaWithoutPrimary_AsksToMarkOne()
    {
        var problem = TopologyText.SingleProblem(TopologyText.Valid + "\n  db1: { roles: [db], db: replica }\n  db2: { roles: [db], db: replica }\n");

        Assert.Equal("servers.db1.db", problem.Key);
        Assert.Contains("a replica but no primary", problem.Message);
        Assert.Contains("db: primary", problem.Fix);
    }

    [Fact]
    public void Validate_SingleReplica_HasNoPrimary()
    {
        var problem = TopologyText.SingleProblem(TopologyText.Valid + "\n  db1: { roles: [db], db: replica }\n");

        Assert.Contains("a replica but no primary", problem.Message);
    }

    [Fact]
    public void Validate_TwoPrimaries_IsReported()
    {
        var problem = TopologyText.SingleProblem(TopologyText.Valid + "\n  db1: { roles: [db], db: primary }\n  db2: { roles: [db], db: primary }\n");

        Assert.Equal("servers.db2.db", problem.Key);
        Assert.Contains("two primaries", problem.Message);
    }

    [Fact]
    public void Validate_DbPartWithoutDbRole_IsReported()
    {
        var problem = TopologyText.SingleProblem(TopologyText.Valid.Replace("{ roles: [app] }", "{ roles: [app], db: primary }"));

        Assert.Equal("servers.app1.db", problem.Key);
    }

    [Fact]
    public void Validate_BadDomain_IsReported()
    {
        var problem = TopologyText.SingleProblem(TopologyText.Valid.Replace("foobar.com", "foobar"));

        Assert.Equal("domain", problem.Key);
        Assert.Equal(1, problem.Line);
    }
}
