using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Foobar.Testing;

/// <summary>Keeps every message logged to it, so a test can see why the code under test did what it did.</summary>
public class ListLogger : ILogger
{
    private readonly ConcurrentQueue<string> _messages = new();

    public IReadOnlyCollection<string> Messages => _messages;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _messages.Enqueue(formatter(state, exception));
}

/// <summary>A <see cref="ListLogger"/> for code that asks for its category's logger.</summary>
public sealed class ListLogger<T> : ListLogger, ILogger<T>;
