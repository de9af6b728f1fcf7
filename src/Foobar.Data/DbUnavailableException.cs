namespace Foobar.Data;

/// <summary>No server could do the work now (no primary during a failover, every server down). Retrying later may succeed.</summary>
public sealed class DbUnavailableException(string message, Exception? innerException = null) : Exception(message, innerException);
