namespace Foobar.ControlPlane.Supervision;

/// <summary>Recent supervision events in memory, and every one appended to a file when one is given.</summary>
public sealed class EventLog(TimeProvider timeProvider, string? file = null)
{
    private const int Kept = 200;
    private readonly Queue<SupervisionEvent> _recent = new();
    private readonly Lock _lock = new();

    /// <summary>Records <paramref name="message"/> about <paramref name="server"/>.</summary>
    public SupervisionEvent Record(string server, string message)
    {
        var entry = new SupervisionEvent(timeProvider.GetUtcNow(), server, message);
        lock (_lock)
        {
            _recent.Enqueue(entry);
            if (_recent.Count > Kept)
            {
                _recent.Dequeue();
            }
            if (file is not null)
            {
                File.AppendAllText(file, entry + Environment.NewLine);
            }
        }
        return entry;
    }

    /// <summary>The last <paramref name="count"/> events, oldest first.</summary>
    public IReadOnlyList<SupervisionEvent> Recent(int count = 20)
    {
        lock (_lock)
        {
            return _recent.Skip(Math.Max(0, _recent.Count - count)).ToList();
        }
    }
}
