namespace Foobar.Http.Backends;

/// <summary>One server requests can be forwarded to.</summary>
/// <remarks>State changes come from health checks and from failed forwards, on any thread.</remarks>
public sealed class Backend
{
    private volatile BackendState _state;
    private long _requests;
    private long _failures;
    private long _active;
    private volatile bool _draining;
    private long _retried;
    private int _consecutiveFailures;
    private readonly long[] _responses = new long[6];
    private volatile CheckResult? _lastCheck;
    private long _rampStart;
    private readonly int _maxConcurrent;
    private readonly TimeSpan _slowStart;

    /// <summary>Creates a backend, up until a check says otherwise (a fresh topology starts ready).</summary>
    /// <param name="name">Server name.</param>
    /// <param name="baseUri">Where it listens.</param>
    /// <param name="initial">State before the first check.</param>
    /// <param name="weight">Share of the requests relative to the others, 1 to 256.</param>
    /// <param name="backup">Takes requests only when no other backend of its pool is up.</param>
    public Backend(string name, Uri baseUri, BackendState initial = BackendState.Up, int weight = 1, bool backup = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(weight, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(weight, 256);
        Name = name;
        BaseUri = baseUri;
        Origin = baseUri.GetLeftPart(UriPartial.Authority);
        Weight = weight;
        Backup = backup;
        _state = initial;
    }

    /// <summary>Share of the requests relative to the other backends of its pool.</summary>
    public int Weight { get; }

    /// <summary>
    /// <see cref="Weight"/> times <see cref="WeightScale"/>, or less while the backend is in its
    /// <see cref="SlowStart"/>: what the policies balance by.
    /// </summary>
    public int EffectiveWeight
    {
        get
        {
            var full = Weight * WeightScale;
            var start = Volatile.Read(ref _rampStart);
            if (start == 0)
            {
                return full;
            }
            var elapsed = Time.GetElapsedTime(start);
            if (elapsed >= _slowStart)
            {
                Interlocked.CompareExchange(ref _rampStart, 0, start);
                return full;
            }
            return Math.Max(1, (int)(full * elapsed.Ticks / _slowStart.Ticks));
        }
    }

    /// <summary>Units of <see cref="EffectiveWeight"/> per unit of <see cref="Weight"/>: room for a ramp of 16 steps even at weight 1 (HAProxy scales the same way).</summary>
    public const int WeightScale = 16;

    /// <summary>
    /// Requests it may have in flight at once; the pool queues the rest (HAProxy's <c>maxconn</c>
    /// on a server line). 0, the default, means no limit.
    /// </summary>
    public int MaxConcurrent
    {
        get => _maxConcurrent;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _maxConcurrent = value;
        }
    }

    /// <summary>Whether one more request may start here now (<see cref="MaxConcurrent"/>).</summary>
    public bool HasRoom => _maxConcurrent == 0 || Interlocked.Read(ref _active) < _maxConcurrent;

    /// <summary>
    /// After coming back up, the time over which its share of requests grows from almost nothing to
    /// its full weight, so that cold caches and connection pools are not flooded at once (HAProxy's
    /// <c>slowstart</c>). Not applied to the first state of a new backend. Zero, the default, turns it off.
    /// </summary>
    public TimeSpan SlowStart
    {
        get => _slowStart;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            _slowStart = value;
        }
    }

    /// <summary>The clock of <see cref="SlowStart"/>. Default the system's.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Takes requests only when no non-backup backend of its pool is up (active-passive).</summary>
    public bool Backup { get; }

    /// <summary>
    /// Set by an operator (<c>foobar lb drain</c>): gets no new requests, whatever its health, while
    /// those in flight finish. Cleared by <c>foobar lb ready</c>.
    /// </summary>
    public bool Draining
    {
        get => _draining;
        set => _draining = value;
    }

    /// <summary>Requests forwarded to it and not finished yet.</summary>
    public long ActiveRequests => Interlocked.Read(ref _active);

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
        if (state == BackendState.Up && _slowStart > TimeSpan.Zero)
        {
            Volatile.Write(ref _rampStart, Time.GetTimestamp());
        }
        StateChanged?.Invoke(this, state, reason);
    }

    /// <summary>Requests that failed here before reaching the application (or idempotent ones) and were handed on to the next backend, if any.</summary>
    public long Retried => Interlocked.Read(ref _retried);

    /// <summary>Responses passed on, by class: index 1 to 5 for 1xx to 5xx, 0 for anything else.</summary>
    public long ResponsesOfClass(int statusClass) => Interlocked.Read(ref _responses[statusClass is >= 1 and <= 5 ? statusClass : 0]);

    /// <summary>The last active health check; null before the first.</summary>
    public CheckResult? LastCheck => _lastCheck;

    /// <summary>Counts a response passed on to the client.</summary>
    public void CountResponse(int status) => Interlocked.Increment(ref _responses[status / 100 is var c and >= 1 and <= 5 ? c : 0]);

    /// <summary>Counts a request that failed here and goes to another backend.</summary>
    public void CountRetry() => Interlocked.Increment(ref _retried);

    /// <summary>Records the outcome of an active health check.</summary>
    public void RecordCheck(CheckResult result) => _lastCheck = result;

    /// <summary>A request starts on this backend: counted, and in flight until <see cref="EndRequest"/>.</summary>
    public void BeginRequest()
    {
        Interlocked.Increment(ref _requests);
        Interlocked.Increment(ref _active);
    }

    /// <summary>A request begun with <see cref="BeginRequest"/> is over.</summary>
    public void EndRequest() => Interlocked.Decrement(ref _active);

    /// <summary>Counts a forward that got no usable response; returns how many failed in a row.</summary>
    internal int CountFailure()
    {
        Interlocked.Increment(ref _failures);
        return Interlocked.Increment(ref _consecutiveFailures);
    }

    /// <summary>A forward got a response: the run of failures ends.</summary>
    internal void CountSuccess() => Volatile.Write(ref _consecutiveFailures, 0);

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({BaseUri}, {State})";
}
