namespace Foobar.Http.Backends;

/// <summary>Why <see cref="BackendPool.AcquireAsync"/> gave no backend.</summary>
public enum Refusal
{
    /// <summary>It gave one.</summary>
    None,
    /// <summary>No backend is up, ready and untried.</summary>
    NoneUp,
    /// <summary>Every usable backend is at its limit and the queue is full.</summary>
    QueueFull,
    /// <summary>Every usable backend stayed at its limit for the whole queue timeout.</summary>
    QueueTimeout,
}

/// <summary>The outcome of <see cref="BackendPool.AcquireAsync"/>: a backend to release when done, or why there is none.</summary>
/// <param name="Backend">The backend the request now counts against; null when refused.</param>
/// <param name="Refusal">Why there is no backend; <see cref="Refusal.None"/> when there is one.</param>
public readonly record struct Acquired(Backend? Backend, Refusal Refusal)
{
    /// <summary>No backend, for <paramref name="refusal"/>.</summary>
    public static Acquired Refused(Refusal refusal) => new(null, refusal);
}
