using Foobar.Http.LoadBalancing;

namespace Foobar.Http.Backends;

/// <summary>The servers one tier forwards to, with the policy that picks among them and the queue for requests that find them all at their limit.</summary>
/// <remarks>
/// With no <see cref="Backend.MaxConcurrent"/> set on any backend, <see cref="AcquireAsync"/> takes
/// no lock and never waits. With limits, a request that finds every usable backend full waits in
/// one queue, first come first served: a finishing request hands its slot to the first waiter that
/// may use that backend, so newcomers cannot overtake the queue.
/// </remarks>
public sealed class BackendPool
{
    private readonly Lock _gate = new();
    private readonly LinkedList<Waiter> _waiters = [];
    private volatile Backend[] _backends;
    private volatile bool _limited;
    private long _queueRefused;

    /// <summary>Creates a pool.</summary>
    /// <param name="backends">Every backend, up or down.</param>
    /// <param name="policy">Chooses among the usable backends.</param>
    /// <param name="queue">How requests wait for a backend at its limit; default <see cref="QueueOptions"/>'s defaults.</param>
    public BackendPool(IReadOnlyList<Backend> backends, ILoadBalancingPolicy policy, QueueOptions? queue = null)
    {
        Policy = policy;
        Queue = queue ?? new QueueOptions();
        _backends = [.. backends];
        _limited = _backends.Any(b => b.MaxConcurrent > 0);
        foreach (var backend in _backends)
        {
            backend.StateChanged += OnStateChanged;
        }
    }

    /// <summary>Every backend, up or down.</summary>
    public IReadOnlyList<Backend> Backends => _backends;

    /// <summary>Raised after <see cref="Replace"/> changed the backends (the health checker follows it).</summary>
    public event Action? BackendsChanged;

    /// <summary>
    /// Makes <paramref name="backends"/> the pool's backends (a topology change): requests already
    /// on a removed backend finish there, new ones go only to these. Keep the same objects for
    /// backends that stay, so their state and counters carry on.
    /// </summary>
    public void Replace(IReadOnlyList<Backend> backends)
    {
        lock (_gate)
        {
            foreach (var gone in _backends.Except(backends))
            {
                gone.StateChanged -= OnStateChanged;
            }
            foreach (var added in backends.Except(_backends))
            {
                added.StateChanged += OnStateChanged;
            }
            _backends = [.. backends];
            _limited = _backends.Any(b => b.MaxConcurrent > 0);
        }
        BackendsChanged?.Invoke();
        ServeWaiters();
    }

    private void OnStateChanged(Backend backend, BackendState state, string reason)
    {
        if (state == BackendState.Up)
        {
            ServeWaiters();
        }
    }

    /// <summary>The policy choosing among the usable backends.</summary>
    public ILoadBalancingPolicy Policy { get; }

    /// <summary>How requests wait when every usable backend is at its <see cref="Backend.MaxConcurrent"/>.</summary>
    public QueueOptions Queue { get; }

    /// <summary>Requests waiting for a backend now.</summary>
    public int Queued
    {
        get
        {
            lock (_gate)
            {
                return _waiters.Count;
            }
        }
    }

    /// <summary>Requests turned away because the queue was full or their wait ran out.</summary>
    public long QueueRefused => Interlocked.Read(ref _queueRefused);

    /// <summary>
    /// The backend for the next try of the request <paramref name="key"/>: among those up, not
    /// draining and not <paramref name="tried"/> yet, the non-backup ones, or the backup ones when none of those is
    /// left; null when none is left at all. Ignores <see cref="Backend.MaxConcurrent"/>.
    /// </summary>
    public Backend? Pick(IReadOnlyCollection<Backend> tried, BalanceKey key = default) =>
        Pick(tried, key, roomOnly: false, out _);

    /// <summary>
    /// Like <see cref="Pick(IReadOnlyCollection{Backend}, BalanceKey)"/>, and the request is counted
    /// in flight on the backend until <see cref="Release"/>. When every candidate is at its
    /// <see cref="Backend.MaxConcurrent"/> the request waits, up to <see cref="QueueOptions.Timeout"/>,
    /// for one to finish a request.
    /// </summary>
    public ValueTask<Acquired> AcquireAsync(IReadOnlyCollection<Backend> tried, BalanceKey key, CancellationToken cancellationToken)
    {
        if (!_limited)
        {
            var backend = Pick(tried, key);
            backend?.BeginRequest();
            return ValueTask.FromResult(backend is null ? Acquired.Refused(Refusal.NoneUp) : new Acquired(backend, Refusal.None));
        }
        Waiter waiter;
        lock (_gate)
        {
            if (Pick(tried, key, roomOnly: true, out var full) is { } backend)
            {
                backend.BeginRequest();
                return ValueTask.FromResult(new Acquired(backend, Refusal.None));
            }
            if (!full)
            {
                return ValueTask.FromResult(Acquired.Refused(Refusal.NoneUp));
            }
            if (_waiters.Count >= Queue.Length)
            {
                Interlocked.Increment(ref _queueRefused);
                return ValueTask.FromResult(Acquired.Refused(Refusal.QueueFull));
            }
            waiter = new Waiter(tried, key);
            waiter.Node = _waiters.AddLast(waiter);
        }
        return WaitAsync(waiter, cancellationToken);
    }

    private async ValueTask<Acquired> WaitAsync(Waiter waiter, CancellationToken cancellationToken)
    {
        try
        {
            var backend = await waiter.Slot.Task.WaitAsync(Queue.Timeout, Queue.Time, cancellationToken).ConfigureAwait(false);
            return new Acquired(backend, Refusal.None);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            lock (_gate)
            {
                if (waiter.Node?.List is not null)
                {
                    _waiters.Remove(waiter.Node);
                    if (e is OperationCanceledException)
                    {
                        throw;
                    }
                    Interlocked.Increment(ref _queueRefused);
                    return Acquired.Refused(Refusal.QueueTimeout);
                }
            }
            // A slot was handed over as the wait ended: take it, the caller releases it.
            return new Acquired(await waiter.Slot.Task.ConfigureAwait(false), Refusal.None);
        }
    }

    /// <summary>A request begun by <see cref="AcquireAsync"/> on <paramref name="backend"/> is over; its slot goes to the first waiter that may use it.</summary>
    public void Release(Backend backend)
    {
        backend.EndRequest();
        if (_limited)
        {
            ServeWaiters();
        }
    }

    /// <summary>Marks the backend named <paramref name="name"/> draining or ready; false when the pool has none.</summary>
    public bool SetDraining(string name, bool draining)
    {
        if (Find(name) is not { } backend)
        {
            return false;
        }
        backend.Draining = draining;
        if (!draining)
        {
            ServeWaiters();
        }
        return true;
    }

    /// <summary>Hands free slots to waiters, in the order they came.</summary>
    private void ServeWaiters()
    {
        if (!_limited)
        {
            return;
        }
        lock (_gate)
        {
            for (var node = _waiters.First; node is not null && _backends.Any(b => b.HasRoom);)
            {
                var next = node.Next;
                var waiter = node.Value;
                if (Pick(waiter.Tried, waiter.Key, roomOnly: true, out _) is { } backend)
                {
                    _waiters.Remove(node);
                    backend.BeginRequest();
                    waiter.Slot.SetResult(backend);
                }
                node = next;
            }
        }
    }

    private Backend? Pick(IReadOnlyCollection<Backend> tried, BalanceKey key, bool roomOnly, out bool full)
    {
        var backends = _backends;
        var small = default(SmallBuffer);
        Span<Backend> candidates = backends.Length <= SmallBuffer.Length ? small : new Backend[backends.Length];
        var count = Collect(backends, candidates, tried, backup: false);
        if (count == 0)
        {
            count = Collect(backends, candidates, tried, backup: true);
        }
        full = false;
        if (roomOnly)
        {
            var withRoom = 0;
            foreach (var backend in candidates[..count])
            {
                if (backend.HasRoom)
                {
                    candidates[withRoom++] = backend;
                }
            }
            full = count > 0 && withRoom == 0;
            count = withRoom;
        }
        return count == 0 ? null : Policy.Choose(candidates[..count], key);
    }

    private static int Collect(Backend[] backends, Span<Backend> into, IReadOnlyCollection<Backend> tried, bool backup)
    {
        var count = 0;
        foreach (var backend in backends)
        {
            if (backend.State == BackendState.Up && !backend.Draining && backend.Backup == backup && !tried.Contains(backend))
            {
                into[count++] = backend;
            }
        }
        return count;
    }

    /// <summary>The backend named <paramref name="name"/>; null when the pool has none.</summary>
    public Backend? Find(string name) => Backends.FirstOrDefault(b => b.Name == name);

    /// <summary>A request waiting for a slot; completed with the backend whose slot it got.</summary>
    private sealed class Waiter(IReadOnlyCollection<Backend> tried, BalanceKey key)
    {
        public IReadOnlyCollection<Backend> Tried { get; } = tried;

        public BalanceKey Key { get; } = key;

        public TaskCompletionSource<Backend> Slot { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<Waiter>? Node { get; set; }
    }

    /// <summary>Room for the candidates of a usual pool on the stack: no allocation per request.</summary>
    [System.Runtime.CompilerServices.InlineArray(Length)]
    private struct SmallBuffer
    {
        public const int Length = 16;

        private Backend _first;
    }
}
