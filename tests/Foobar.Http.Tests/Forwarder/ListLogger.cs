using System.Collections.Concurrent;
using Foobar.Http.Forwarder;
using Microsoft.Extensions.Logging;

namespace Foobar.Http.Tests.Forwarder;

/// <summary>Keeps every message the forwarder logs, so a test can see why it did what it did.</summary>
internal sealed class ListLogger : ILogger<HttpForwarder>
{
    private readonly ConcurrentQueue<string> _messages = new();

    public IReadOnlyCollection<string> Messages => _messages;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _messages.Enqueue(formatter(state, exception));
}
