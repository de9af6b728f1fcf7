namespace Foobar.ControlPlane.Supervision;

/// <summary>Something that happened to a server: started, ready, crashed, restarted, killed.</summary>
public sealed record SupervisionEvent(DateTimeOffset At, string Server, string Message)
{
    /// <inheritdoc />
    public override string ToString() => $"{At:yyyy-MM-dd HH:mm:ss.fff} {Server}: {Message}";
}
