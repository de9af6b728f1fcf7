using Foobar.Http.Forwarder;

namespace Foobar.Http.Tests.Forwarder;

public class HopByHopHeadersTests
{
    [Theory]
    [InlineData("Keep-Alive", "", true)]
    [InlineData("transfer-encoding", "", true)]
    [InlineData("X-Hop-Secret", "X-Hop-Secret, close", true)]
    [InlineData("x-hop-secret", "close , X-HOP-SECRET", true)]
    [InlineData("X-Kept", "X-Hop-Secret, close", false)]
    [InlineData("X-Hop", "X-Hop-Secret", false)]
    public void Contains_FixedNamesAndThoseTheConnectionHeaderNames(string name, string connection, bool expected) =>
        Assert.Equal(expected, HopByHopHeaders.Contains(name, connection));
}
