namespace Foobar.Server;

/// <summary>A server stopped because one of its roles failed; the message says which and why.</summary>
public sealed class RoleFailedException(string server, IReadOnlyList<Exception> failures)
    : Exception($"{server} stopped: {string.Join("; ", failures.Select(f => f.Message))}", failures[0])
{
}
