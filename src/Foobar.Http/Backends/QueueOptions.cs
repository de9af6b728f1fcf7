namespace Foobar.Http.Backends;

/// <summary>How requests wait in a <see cref="BackendPool"/> whose usable backends are all at their <see cref="Backend.MaxConcurrent"/>.</summary>
public sealed record QueueOptions
{
    /// <summary>Requests that may wait at once; the next is refused at once. Default 1024.</summary>
    public int Length { get; init; } = 1024;

    /// <summary>How long a request may wait for a backend before it is refused (HAProxy's <c>timeout queue</c>). Default 5 s.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The clock of <see cref="Timeout"/>. Default the system's.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}
