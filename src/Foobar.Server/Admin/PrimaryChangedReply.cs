namespace Foobar.Server.Admin;

/// <summary>An app server's answer to the news of a new db primary.</summary>
/// <param name="Server">The app server.</param>
/// <param name="Primary">The primary it sees after looking again; null when none is writable.</param>
public sealed record PrimaryChangedReply(string Server, string? Primary);
