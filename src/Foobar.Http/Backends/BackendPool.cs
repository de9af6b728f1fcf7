using System.Threading.Tasks.Sources;
using Foobar.Http.LoadBalancing;
using Foobar.Http.Transport;

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
    /// <summary>Fires at the first waiter's deadline (the queue is first come first served: it is the first to run out); created at the first wait.</summary>
    private ITimer? _deadlines;
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
            waiter = new Waiter(tried, key, Queue.Time.GetTimestamp() + (long)(Queue.Timeout.TotalSeconds * Queue.Time.TimestampFrequency));
            waiter.Node = _waiters.AddLast(waiter);
            if (_waiters.Count == 1)
            {
                _deadlines ??= Queue.Time.CreateTimer(static pool => ((BackendPool)pool!).ExpireWaiters(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                _deadlines.Change(Queue.Timeout, Timeout.InfiniteTimeSpan);
            }
            if (cancellationToken.CanBeCanceled)
            {
                // Under the lock, so the waiter holds its registration before anyone can complete
                // it; a token cancelled already runs the callback here (the lock lets it in again).
                waiter.Cancellation = cancellationToken.UnsafeRegister(static (state, token) =>
                {
                    var (pool, waiter) = ((BackendPool, Waiter))state!;
                    pool.CancelWaiter(waiter, token);
                }, (this, waiter));
            }
        }
        return waiter.Task;
    }

    /// <summary>Takes <paramref name="waiter"/> off the queue, if it still is on it: true for the caller that did, who completes it.</summary>
    private bool Dequeue(Waiter waiter)
    {
        if (waiter.Node?.List is null)
        {
            return false;
        }
        _waiters.Remove(waiter.Node);
        return true;
    }

    private void CancelWaiter(Waiter waiter, CancellationToken token)
    {
        lock (_gate)
        {
            if (!Dequeue(waiter))
            {
                return;
            }
        }
        waiter.Fail(new OperationCanceledException(token));
    }

    /// <summary>From <c>_deadlines</c>: refuses the waiters whose time ran out, and sets the timer for the next.</summary>
    private void ExpireWaiters()
    {
        List<Waiter>? expired = null;
        lock (_gate)
        {
            var now = Queue.Time.GetTimestamp();
            while (_waiters.First?.Value is { } first && first.Deadline <= now)
            {
                Dequeue(first);
                (expired ??= []).Add(first);
            }
            if (_waiters.First?.Value is { } next)
            {
                _deadlines!.Change(Queue.Time.GetElapsedTime(now, next.Deadline), Timeout.InfiniteTimeSpan);
            }
        }
        foreach (var waiter in expired ?? [])
        {
            Interlocked.Increment(ref _queueRefused);
            waiter.Complete(Acquired.Refused(Refusal.QueueTimeout), inline: false);
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

    /// <summary>
    /// Hands free slots to waiters, in the order they came. On an event loop's thread (where the
    /// finishing request ran) a served waiter's request continues on that thread once the loop is
    /// done with the event at hand, as a request that found room would have — not nested in the
    /// finishing request's code, whose backend connection it may take; elsewhere on the thread pool.
    /// </summary>
    private void ServeWaiters()
    {
        if (!_limited)
        {
            return;
        }
        Waiter? first = null;
        List<Waiter>? more = null;
        lock (_gate)
        {
            for (var node = _waiters.First; node is not null && HasRoom(_backends);)
            {
                var next = node.Next;
                var waiter = node.Value;
                if (Pick(waiter.Tried, waiter.Key, roomOnly: true, out _) is { } backend)
                {
                    Dequeue(waiter);
                    backend.BeginRequest();
                    waiter.Served = backend;
                    if (first is null)
                    {
                        first = waiter;
                    }
                    else
                    {
                        (more ??= []).Add(waiter);
                    }
                }
                node = next;
            }
        }
        if (first is null)
        {
            return;
        }
        Serve(first);
        foreach (var waiter in more ?? [])
        {
            Serve(waiter);
        }

        static void Serve(Waiter waiter)
        {
            if (!EpollLoop.TryPost(static waiter => ((Waiter)waiter!).CompleteServed(inline: true), waiter))
            {
                waiter.CompleteServed(inline: false);
            }
        }
    }

    private static bool HasRoom(Backend[] backends)
    {
        foreach (var backend in backends)
        {
            if (backend.HasRoom)
            {
                return true;
            }
        }
        return false;
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

    /// <summary>
    /// A request waiting for a slot: completed once, by whoever takes it off the queue under the
    /// pool's lock — a freed slot, its deadline, its cancellation.
    /// </summary>
    private sealed class Waiter(IReadOnlyCollection<Backend> tried, BalanceKey key, long deadline) : IValueTaskSource<Acquired>
    {
        private ManualResetValueTaskSourceCore<Acquired> _core;

        public IReadOnlyCollection<Backend> Tried { get; } = tried;

        public BalanceKey Key { get; } = key;

        /// <summary>When its wait runs out (<see cref="QueueOptions.Time"/>'s timestamp).</summary>
        public long Deadline { get; } = deadline;

        public LinkedListNode<Waiter>? Node { get; set; }

        public CancellationTokenRegistration Cancellation { get; set; }

        /// <summary>The backend whose slot it was given, once served.</summary>
        public Backend? Served { get; set; }

        /// <summary>Ends the wait with the slot it was <see cref="Served"/>.</summary>
        public void CompleteServed(bool inline) => Complete(new Acquired(Served, Refusal.None), inline);

        public ValueTask<Acquired> Task => new(this, _core.Version);

        /// <summary>Ends the wait with <paramref name="result"/>; the request continues on this thread when <paramref name="inline"/>.</summary>
        public void Complete(Acquired result, bool inline)
        {
            _core.RunContinuationsAsynchronously = !inline;
            _core.SetResult(result);
        }

        /// <summary>Ends the wait with <paramref name="error"/>, the request continuing elsewhere (this may be the canceller's thread).</summary>
        public void Fail(Exception error)
        {
            _core.RunContinuationsAsynchronously = true;
            _core.SetException(error);
        }

        public Acquired GetResult(short token)
        {
            // Unregisters unless this is the cancellation itself, which completed asynchronously.
            Cancellation.Dispose();
            return _core.GetResult(token);
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }

    /// <summary>Room for the candidates of a usual pool on the stack: no allocation per request.</summary>
    [System.Runtime.CompilerServices.InlineArray(Length)]
    private struct SmallBuffer
    {
        public const int Length = 16;

        private Backend _first;
    }
}
