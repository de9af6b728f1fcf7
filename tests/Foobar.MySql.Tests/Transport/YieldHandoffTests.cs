using Foobar.MySql.Transport;

namespace Foobar.MySql.Tests.Transport;

/// <summary>When a read after a command yields its processor to a database on the same machine: only while that pays.</summary>
public sealed class YieldHandoffTests
{
    [Fact]
    public void ANewConnection_Yields_AndKeepsYieldingWhileAnswersFollow_ButLetsItsThreadGoOnceARun()
    {
        var handoff = new YieldHandoff();

        for (var i = 1; i <= 1000; i++)
        {
            // Every MaxRun-th read in a row of answered yields waits on the loop instead, so the
            // connection's thread goes back to the pool's other callers.
            var expected = i % YieldHandoff.MaxRun != 0;
            Assert.Equal(expected, handoff.ShouldYield());
            if (expected)
            {
                handoff.Record(answered: true);
            }
        }
    }

    [Fact]
    public void AnUnansweredYield_StartsTheRunAfresh()
    {
        var handoff = new YieldHandoff();
        Yields(ref handoff, reads: YieldHandoff.MaxRun - 2, answered: true);
        Assert.True(handoff.ShouldYield());
        handoff.Record(answered: false);

        Assert.Equal(YieldHandoff.MaxRun - 1, Yields(ref handoff, reads: YieldHandoff.MaxRun - 1, answered: true));
        Assert.False(handoff.ShouldYield());
    }

    [Fact]
    public void AServerThatNeverAnswersWithinAYield_CostsTwoYields_ThenOneProbeInEvery64Reads()
    {
        var handoff = new YieldHandoff();

        var yields = Yields(ref handoff, reads: 2 + 64 * 10, answered: false);

        // Half the starting credit is 4, and each miss costs 2.
        Assert.Equal(2 + 10, yields);
    }

    [Fact]
    public void AfterAFullRunOfAnswers_ItTakesFourMissesInARowToStop()
    {
        var handoff = new YieldHandoff();
        Yields(ref handoff, reads: 20, answered: true);

        Assert.Equal(YieldHandoff.MaxCredit / YieldHandoff.Penalty, Yields(ref handoff, reads: 50, answered: false));
    }

    [Fact]
    public void AProbeThatIsAnswered_StartsYieldingAgain()
    {
        var handoff = new YieldHandoff();
        Yields(ref handoff, reads: 2, answered: false);
        Assert.False(handoff.ShouldYield());

        Assert.Equal(1, Yields(ref handoff, reads: YieldHandoff.ProbeEvery - 1, answered: true));
        Assert.True(handoff.ShouldYield());
        handoff.Record(answered: true);
        Assert.True(handoff.ShouldYield());
    }

    /// <summary>Runs <paramref name="reads"/> reads whose yields all go the same way: how many yielded.</summary>
    private static int Yields(ref YieldHandoff handoff, int reads, bool answered)
    {
        var yields = 0;
        for (var i = 0; i < reads; i++)
        {
            if (handoff.ShouldYield())
            {
                yields++;
                handoff.Record(answered);
            }
        }
        return yields;
    }
}
