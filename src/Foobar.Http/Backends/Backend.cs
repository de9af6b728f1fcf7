namespace Foobar.Http.Backends;

/// <summary>One server requests can be forwarded to.</summary>
/// <remarks>State changes come from health checks and from failed forwards, on any thread.</remarks>
public sealed class Backend
{
    private volatile BackendState _state;
    private long _requests;
    private long _failures;

    /// <summary>Creates a backend, up until a check says otherwise (a fresh topology starts ready).</summary>
    public Backend(string name, Uri baseUri, BackendState initial = BackendState.Up)
    {
        Name = name;
        BaseUri = baseUri;
        Origin = baseUri.GetLeftPart(UriPartial.Authority);
        _state = initial;
    }

    /// <summary>Server name, as in the topology and in X-Served-By.</summary>
    public string Name { get; }

    /// <summary>Scheme, address and port, e.g. <c>http://127.10.0.5:80/</c>.</summary>
    public Uri BaseUri { get; }

    /// <summary><see cref="BaseUri"/> without the trailing slash, to prepend to a request path.</summary>
    public string Origin { get; }

    /// <summary>Current state.</summary>
    public BackendState State => _state;

    /// <summary>Requests sent to this backend.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Forwards that failed to get a response.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Raised when <see cref="State"/> changes: (backend, new state, reason).</summary>
    public event Action<Backend, BackendState, string>? StateChanged;

    /// <summary>Moves to <paramref name="state"/>; a no-op when already there.</summary>
    public void SetState(BackendState state, string reason)
    {
        if (_state == state)
        {
            return;
        }
        _state = state;
        StateChanged?.Invoke(this, state, reason);
    }

    internal void CountRequest() => Interlocked.Increment(ref _requests);

    internal void CountFailure() => Interlocked.Increment(ref _failures);

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({BaseUri}, {State})";
}
