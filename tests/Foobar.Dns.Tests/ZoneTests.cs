using System.Net;
using Foobar.Dns.Protocol;
using Foobar.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Foobar.Dns.Tests;

public class ZoneTests
{
    private static readonly IPAddress Lb1 = IPAddress.Parse("127.10.0.3");
    private static readonly IPAddress Lb2 = IPAddress.Parse("127.10.0.4");

    private static DnsServer Server(params IPAddress[] site) => new(new IPEndPoint(IPAddress.Loopback, 0),
        new Zone("foobar.com", () => site, new Dictionary<string, IPAddress> { ["web1"] = IPAddress.Parse("127.10.0.5") }), NullLogger.Instance);

    private static DnsQueries.Reply Ask(DnsServer server, byte[] query) => DnsQueries.Read(server.Respond(query)!);

    [Fact]
    public void Site_AnswersEveryAddress_Rotated_Authoritative_WithAShortTtl()
    {
        var server = Server(Lb1, Lb2);

        var first = Ask(server, DnsQueries.For("www.foobar.com"));
        var second = Ask(server, DnsQueries.For("WWW.FooBar.com."));
        var apex = Ask(server, DnsQueries.For("foobar.com"));

        Assert.Equal(0x1234, first.Id);
        Assert.Equal(0, first.Rcode);
        Assert.Equal(0x0400, first.Flags & 0x0400); // authoritative
        Assert.Equal(0x8000, first.Flags & 0x8000); // a response
        Assert.Equal(0x0100, first.Flags & 0x0100); // recursion desired, copied
        Assert.Equal(5u, first.Ttl);
        Assert.Equal([Lb1, Lb2], first.Addresses.Order(Comparer<IPAddress>.Create((a, b) => string.CompareOrdinal(a.ToString(), b.ToString()))));
        Assert.NotEqual(first.Addresses[0], second.Addresses[0]);
        Assert.Equal(2, apex.Addresses.Count);
    }

    [Fact]
    public void Hosts_HaveTheirOwnNames_OtherNamesInTheZoneDoNotExist_OthersAreRefused()
    {
        var server = Server(Lb1);

        Assert.Equal([IPAddress.Parse("127.10.0.5")], Ask(server, DnsQueries.For("web1.foobar.com")).Addresses);
        Assert.Equal((int)DnsRcode.NameError, Ask(server, DnsQueries.For("nope.foobar.com")).Rcode);
        Assert.Equal((int)DnsRcode.Refused, Ask(server, DnsQueries.For("example.org")).Rcode);
        Assert.Equal((int)DnsRcode.Refused, Ask(server, DnsQueries.For("evilfoobar.com")).Rcode);
        var aaaa = Ask(server, DnsQueries.For("www.foobar.com", type: 28));
        Assert.Equal((0, 0), (aaaa.Rcode, aaaa.Addresses.Count));
    }

    [Fact]
    public void BadMessages_GetFormErrOrNotImp_OrAreDropped_AndCounted()
    {
        var server = Server(Lb1);
        var good = DnsQueries.For("www.foobar.com");
        var pointer = good.ToArray();
        pointer[12] = 0xC0; // a compression pointer where the question's name starts
        var longLabel = DnsQueries.For(new string('a', 64) + ".foobar.com");
        var longName = DnsQueries.For(string.Join('.', Enumerable.Repeat(new string('a', 60), 5)) + ".foobar.com");

        Assert.Null(server.Respond(new byte[5]));                                              // no room for an id
        Assert.Null(server.Respond(DnsQueries.For("www.foobar.com", flags: 0x8000)));             // a response
        Assert.Equal((int)DnsRcode.NotImplemented, Ask(server, DnsQueries.For("www.foobar.com", flags: 0x2800)).Rcode); // opcode 5, UPDATE
        Assert.Equal((int)DnsRcode.FormatError, Ask(server, DnsQueries.For("www.foobar.com", questions: 2)).Rcode);
        Assert.Equal((int)DnsRcode.FormatError, Ask(server, DnsQueries.For("www.foobar.com", questions: 0)).Rcode);
        Assert.Equal((int)DnsRcode.FormatError, Ask(server, good[..^3]).Rcode);                // no type and class
        Assert.Equal((int)DnsRcode.FormatError, Ask(server, good[..20]).Rcode);                // cut inside the name
        Assert.Equal((int)DnsRcode.FormatError, Ask(server, pointer).Rcode);
        Assert.Equal((int)DnsRcode.FormatError, Ask(server, longLabel).Rcode);
        Assert.Equal((int)DnsRcode.FormatError, Ask(server, longName).Rcode);
        Assert.Equal(10, server.Malformed);
        Assert.Equal(0x1234, Ask(server, pointer).Id);
    }

    [Fact]
    public void ManyAddresses_OnlyAsManyAsFitIn512Bytes()
    {
        var many = Enumerable.Range(1, 100).Select(i => IPAddress.Parse($"127.10.1.{i}")).ToArray();

        var answer = Server(many).Respond(DnsQueries.For("www.foobar.com"))!;

        Assert.True(answer.Length <= 512);
        Assert.Equal(30, DnsQueries.Read(answer).Addresses.Count); // (512 - 12 header - 20 question) / 16 per record
    }
}
