namespace Foobar.MySql.Core;

/// <summary>
/// For the length of one synchronous ADO.NET call, the session's I/O blocks the calling thread
/// (<see cref="ServerSession.Blocking"/>) instead of going through the runtime's event loop and
/// thread pool only to be waited for. A struct: the hot path (<c>Read()</c>) allocates nothing.
/// </summary>
internal readonly struct BlockingScope : IDisposable
{
    private readonly ServerSession? _session;
    private readonly bool _was;

    public BlockingScope(ServerSession? session)
    {
        _session = session;
        if (session is not null)
        {
            _was = session.Blocking;
            session.Blocking = true;
        }
    }

    public void Dispose()
    {
        if (_session is not null)
        {
            _session.Blocking = _was;
        }
    }
}
