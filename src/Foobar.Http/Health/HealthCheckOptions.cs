namespace Foobar.Http.Health;

/// <summary>How a pool's backends are checked (HAProxy's <c>check inter fastinter rise fall</c>).</summary>
public sealed record HealthCheckOptions
{
    /// <summary>Path asked with GET. Default <c>/healthz</c>.</summary>
    public string Path { get; init; } = "/healthz";

    /// <summary>Time between checks of a backend whose state is settled. Default 1 s.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Time between checks while a backend is changing state (a check disagreed with its state and
    /// more must agree before it changes): the change is confirmed, or dismissed, sooner. Default 250 ms.
    /// </summary>
    public TimeSpan FastInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>A check not answered within this fails. Default 1 s.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Consecutive passed checks that bring a down backend up. Default 2.</summary>
    public int Rise { get; init; } = 2;

    /// <summary>Consecutive failed checks that take an up backend down. Default 2.</summary>
    public int Fall { get; init; } = 2;

    /// <summary>Status codes that pass; empty means any 2xx or 3xx. Default empty.</summary>
    public IReadOnlyList<int> ExpectedStatus { get; init; } = [];

    /// <summary>Whether <paramref name="status"/> passes.</summary>
    public bool Passes(int status) => ExpectedStatus.Count == 0 ? status is >= 200 and < 400 : ExpectedStatus.Contains(status);
}
