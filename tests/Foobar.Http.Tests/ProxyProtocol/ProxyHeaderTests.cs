using System.Buffers;
using System.Net;
using Foobar.Http.ProxyProtocol;

namespace Foobar.Http.Tests.ProxyProtocol;

public class ProxyHeaderTests
{
    private static readonly IPEndPoint Client = IPEndPoint.Parse("203.0.113.7:51234");
    private static readonly IPEndPoint Public = IPEndPoint.Parse("127.10.0.1:443");

    private static (int Length, IPEndPoint? Source, IPEndPoint? Destination) Parse(byte[] bytes)
    {
        ProxyHeader.Parse(new ReadOnlySequence<byte>(bytes), out var length, out var source, out var destination);
        return (length, source, destination);
    }

    [Fact]
    public void Write_ThenParse_GivesTheClientAndTheAddressItConnectedTo_ForIPv4AndIPv6()
    {
        var v4 = ProxyHeader.Write(Client, Public);
        var v6 = ProxyHeader.Write(IPEndPoint.Parse("[2001:db8::7]:40000"), IPEndPoint.Parse("[2001:db8::1]:443"));

        Assert.Equal(28, v4.Length);
        Assert.Equal(52, v6.Length);
        Assert.Equal((28, Client, Public), Parse(v4));
        Assert.Equal((52, IPEndPoint.Parse("[2001:db8::7]:40000"), IPEndPoint.Parse("[2001:db8::1]:443")), Parse(v6));
    }

    [Fact]
    public void Parse_AHeaderArrivingInPieces_WaitsForAllOfIt_AndLeavesWhatFollows()
    {
        var header = ProxyHeader.Write(Client, Public);
        var withTls = header.Concat(new byte[] { 0x16, 0x03, 0x01 }).ToArray();

        for (var cut = 0; cut < header.Length; cut++)
        {
            Assert.True(ProxyHeader.MayStartWithHeader(new ReadOnlySequence<byte>(header, 0, cut)));
            Assert.Equal(0, Parse(header[..cut]).Length);
        }
        Assert.Equal(header.Length, Parse(withTls).Length);
    }

    [Fact]
    public void Parse_TlvsAfterTheAddresses_AreSkipped_AndALocalHeaderNamesNoClient()
    {
        var header = ProxyHeader.Write(Client, Public);
        var withTlv = header.Concat(new byte[] { 0x04, 0x00, 0x01, 0xAB }).ToArray();
        withTlv[15] += 4;
        var local = header.ToArray();
        local[12] = 0x20;
        var unspecified = header.ToArray();
        unspecified[13] = 0x00;

        Assert.Equal((32, Client, Public), Parse(withTlv));
        Assert.Equal((28, (IPEndPoint?)null, (IPEndPoint?)null), Parse(local));
        Assert.Equal((28, (IPEndPoint?)null, (IPEndPoint?)null), Parse(unspecified));
    }

    [Theory]
    [InlineData(12, 0x11, "version 1")]
    [InlineData(12, 0x22, "command 2")]
    [InlineData(15, 0x04, "too short for its addresses")]
    public void Parse_Malformed_SaysWhatIsWrong(int index, byte value, string expected)
    {
        var header = ProxyHeader.Write(Client, Public);
        header[index] = value;

        var error = Assert.Throws<InvalidDataException>(() => Parse(header));

        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Parse_AnAbsurdLength_IsRefusedBeforeWaitingForIt()
    {
        var header = ProxyHeader.Write(Client, Public)[..16];
        header[14] = 0xFF;
        header[15] = 0xFF;

        var error = Assert.Throws<InvalidDataException>(() => Parse(header));

        Assert.Contains("65551 bytes", error.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0x16, 0x03, 0x01, 0x02 })]
    [InlineData(new byte[] { (byte)'G', (byte)'E', (byte)'T', (byte)' ' })]
    [InlineData(new byte[] { (byte)'P', (byte)'R', (byte)'O', (byte)'X', (byte)'Y', (byte)' ' })]
    public void MayStartWithHeader_TlsHttpAndVersion1_AreNot(byte[] first)
    {
        Assert.False(ProxyHeader.MayStartWithHeader(new ReadOnlySequence<byte>(first)));
    }
}
