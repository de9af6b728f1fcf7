namespace Foobar.App.Guestbook;

/// <summary>What became of a signing: the new entry's id, or none and how long until the client may write again.</summary>
/// <param name="Id">The entry written; null when the client's allowance was used up.</param>
/// <param name="RetryAfter">Zero when written.</param>
public readonly record struct Signing(long? Id, TimeSpan RetryAfter);
