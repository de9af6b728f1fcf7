using System.IO.Pipelines;

namespace Foobar.Http.Front;

/// <summary>What <see cref="Http1Front"/>'s idle sweep and the server's stop need to know of one connection it serves.</summary>
internal sealed class FrontConnection(PipeReader input)
{
    /// <summary>When it began to wait for a request (<see cref="TimeProvider.GetTimestamp"/>); 0 while a request is under way.</summary>
    private long _waitingSince;

    private volatile bool _closeRequested;

    /// <summary>Whether the server asked it to close: after the response under way, or at once when idle.</summary>
    public bool CloseRequested => _closeRequested;

    /// <summary>Notes that it waits for a request from <paramref name="now"/> on.</summary>
    public void Waiting(long now)
    {
        Volatile.Write(ref _waitingSince, now);
        if (_closeRequested)
        {
            input.CancelPendingRead();
        }
    }

    /// <summary>Notes that a request is under way: no idle timeout until the next wait.</summary>
    public void Busy() => Volatile.Write(ref _waitingSince, 0);

    /// <summary>Asks it to close once no request is under way.</summary>
    public void RequestClose()
    {
        _closeRequested = true;
        if (Volatile.Read(ref _waitingSince) != 0)
        {
            input.CancelPendingRead();
        }
    }

    /// <summary>Ends the wait for a request that began more than <paramref name="timeout"/> before <paramref name="now"/>.</summary>
    public void CloseIfIdleSince(TimeProvider time, long now, TimeSpan timeout)
    {
        var since = Volatile.Read(ref _waitingSince);
        if (since != 0 && time.GetElapsedTime(since, now) >= timeout)
        {
            input.CancelPendingRead();
        }
    }
}
