namespace Foobar.Http.Backends;

/// <summary>Whether a backend takes traffic.</summary>
public enum BackendState
{
    /// <summary>Passed its last check; takes traffic.</summary>
    Up,
    /// <summary>Failed a check or a connection; skipped until a check passes.</summary>
    Down,
}
