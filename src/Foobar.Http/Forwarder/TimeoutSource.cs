namespace Foobar.Http.Forwarder;

/// <summary>
/// A reusable token source cancelled by a timeout or by another token (the client's), without a
/// linked source per use: the other token's registration cancels it, and <see cref="TryReset"/>
/// makes it ready for the next use when it was not cancelled.
/// </summary>
internal sealed class TimeoutSource : CancellationTokenSource
{
    private CancellationTokenRegistration _link;

    /// <summary>Arms the timeout and links <paramref name="other"/>.</summary>
    public void Start(TimeSpan timeout, CancellationToken other)
    {
        _link = other.UnsafeRegister(static state => ((TimeoutSource)state!).Cancel(), this);
        CancelAfter(timeout);
    }

    /// <summary>Unlinks and disarms; false (do not reuse) when it was cancelled.</summary>
    public new bool TryReset()
    {
        _link.Dispose();
        _link = default;
        if (base.TryReset())
        {
            return true;
        }
        Dispose();
        return false;
    }
}
