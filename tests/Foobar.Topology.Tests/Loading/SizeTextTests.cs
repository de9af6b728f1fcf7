using Foobar.Topology.Loading;

namespace Foobar.Topology.Tests.Loading;

public sealed class SizeTextTests
{
    [Theory]
    [InlineData("512", 512L)]
    [InlineData("64k", 64L << 10)]
    [InlineData("64KB", 64L << 10)]
    [InlineData("500 MB", 500L << 20)]
    [InlineData("1g", 1L << 30)]
    [InlineData("2Tb", 2L << 40)]
    [InlineData("10b", 10L)]
    public void TryParse_NumbersWithUnits_AreBytes(string text, long expected)
    {
        Assert.True(SizeText.TryParse(text, out var bytes));
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("MB")]
    [InlineData("1.5g")]
    [InlineData("-1k")]
    [InlineData("+1k")]
    [InlineData("1 000")]
    [InlineData("12 parsecs")]
    [InlineData("9223372036854775807k")]
    public void TryParse_Garbage_IsRefused(string text) => Assert.False(SizeText.TryParse(text, out _));

    [Theory]
    [InlineData(512L, "512 B")]
    [InlineData(1536L, "1.5 KB")]
    [InlineData(12L << 20, "12 MB")]
    [InlineData(3L << 30, "3 GB")]
    public void Format_PicksTheLargestUnit(long bytes, string expected) => Assert.Equal(expected, SizeText.Format(bytes));
}
