namespace Foobar.App.Guestbook;

/// <summary>One signature of the guestbook.</summary>
/// <param name="Id">Assigned by the database.</param>
/// <param name="Name">Who signed (1–80 characters).</param>
/// <param name="Message">What they wrote (1–1000 characters).</param>
/// <param name="CreatedAt">When, UTC.</param>
/// <param name="WrittenBy">The app server that took the write.</param>
public sealed record Entry(long Id, string Name, string Message, DateTime CreatedAt, string WrittenBy);

/// <summary>The body of <c>POST /api/entries</c>.</summary>
public sealed record NewEntry(string? Name, string? Message);
