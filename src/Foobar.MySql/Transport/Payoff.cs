namespace Foobar.MySql.Transport;

/// <summary>
/// A connection's score for a cheap attempt to catch its server's answer before waiting for it the
/// usual way (a yield, <see cref="YieldHandoff"/>; a spin, <see cref="BriefWait.SpinMicroseconds"/>):
/// such attempts pay against a database on the same machine and never against one farther away.
/// Every attempt the answer followed earns a credit (up to <see cref="MaxCredit"/>), every one it
/// did not costs <see cref="Penalty"/> (or the penalty it was made with); with no credit left the
/// connection stops trying and tries once every <see cref="ProbeEvery"/> reads all the same, in case
/// the server's load changed.
/// </summary>
internal struct Payoff
{
    /// <summary>The most credit a connection builds up: from it, <c>MaxCredit / Penalty</c> (4) failed attempts in a row stop it.</summary>
    public const int MaxCredit = 8;

    /// <summary>What an attempt that the answer did not follow costs.</summary>
    public const int Penalty = 2;

    /// <summary>With no credit, one read in this many tries all the same: a probe.</summary>
    public const int ProbeEvery = 64;

    private readonly int _penalty;
    private int _credit;
    private int _skipped;

    /// <summary>A connection starts with some credit: its first answers tell whether its server is close.</summary>
    public Payoff()
        : this(Penalty)
    {
    }

    /// <summary>With what a failed attempt costs: 1 keeps it trying while at least every other attempt pays.</summary>
    public Payoff(int penalty)
    {
        _penalty = penalty;
        _credit = MaxCredit / 2;
    }

    /// <summary>Whether attempts have been paying lately (false while only probing).</summary>
    public readonly bool HasCredit => _credit > 0;

    /// <summary>Whether to attempt now (then <see cref="Record"/> follows).</summary>
    public bool ShouldTry()
    {
        if (_credit > 0)
        {
            return true;
        }
        if (++_skipped < ProbeEvery)
        {
            return false;
        }
        _skipped = 0;
        return true;
    }

    /// <summary>How the attempt went: whether the answer was there by its end.</summary>
    public void Record(bool paid) =>
        _credit = paid ? Math.Min(_credit + 1, MaxCredit) : Math.Max(_credit - _penalty, 0);
}
