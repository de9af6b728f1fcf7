using Foobar.Web.Static;

namespace Foobar.Web.Tests.Static;

public class HeaderParsingTests
{
    [Theory]
    [InlineData("gzip, deflate, br", "br", true)]
    [InlineData("gzip;q=1.0, br;q=0", "br", false)]
    [InlineData("*", "br", true)]
    [InlineData("*;q=0, gzip", "br", false)]
    [InlineData("BR", "br", true)]
    [InlineData("br;q=0.001", "br", true)]
    [InlineData("br;q=2", "br", false)]
    [InlineData("br;level=5", "br", false)]
    [InlineData("", "gzip", false)]
    [InlineData("gzipx", "gzip", false)]
    public void AcceptEncoding_Accepts(string header, string coding, bool accepted) =>
        Assert.Equal(accepted, AcceptEncoding.Accepts(header, coding));

    [Theory]
    [InlineData("bytes=0-0", 5, "Partial", 0, 1)]
    [InlineData("bytes= 1 - 2 ", 5, "Partial", 1, 2)]
    [InlineData("BYTES=3-", 5, "Partial", 3, 2)]
    [InlineData("bytes=-2", 5, "Partial", 3, 2)]
    [InlineData("bytes=-2", 0, "Unsatisfiable", 0, 0)]
    [InlineData("bytes=5-", 5, "Unsatisfiable", 0, 0)]
    [InlineData("bytes=0-1,3-4", 5, "Whole", 0, 0)]
    [InlineData("bytes=-", 5, "Whole", 0, 0)]
    [InlineData("bytes=1", 5, "Whole", 0, 0)]
    [InlineData("bytes=+1-2", 5, "Whole", 0, 0)]
    [InlineData("", 5, "Whole", 0, 0)]
    public void ByteRange_Parse(string header, long length, string outcome, long start, long count)
    {
        var result = ByteRange.Parse(header, length, out var range);

        Assert.Equal(outcome, result.ToString());
        if (result == ByteRange.Outcome.Partial)
        {
            Assert.Equal(new ByteRange(start, count), range);
        }
    }
}
