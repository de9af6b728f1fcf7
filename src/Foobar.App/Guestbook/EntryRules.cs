namespace Foobar.App.Guestbook;

/// <summary>What a guestbook entry must be, for the API and the form alike.</summary>
public static class EntryRules
{
    /// <summary>Longest name, in characters.</summary>
    public const int MaxName = 80;

    /// <summary>Longest message, in characters.</summary>
    public const int MaxMessage = 1000;

    /// <summary>What is wrong with an entry (trimmed first), or null when it may be written.</summary>
    public static string? Problem(string name, string message) =>
        name.Length == 0 ? "name is required"
        : name.Length > MaxName ? $"name has {name.Length} characters; at most {MaxName} are allowed"
        : message.Length == 0 ? "message is required"
        : message.Length > MaxMessage ? $"message has {message.Length} characters; at most {MaxMessage} are allowed"
        : null;
}
