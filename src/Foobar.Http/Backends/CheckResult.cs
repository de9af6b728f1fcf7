namespace Foobar.Http.Backends;

/// <summary>One active health check of a backend.</summary>
/// <param name="At">When it finished.</param>
/// <param name="Passed">Whether it passed.</param>
/// <param name="Detail">"passed", or why it failed ("check answered 503").</param>
/// <param name="Duration">How long it took.</param>
public sealed record CheckResult(DateTimeOffset At, bool Passed, string Detail, TimeSpan Duration);
