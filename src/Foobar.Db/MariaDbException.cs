namespace Foobar.Db;

/// <summary>MariaDB could not be initialized or started; the message carries the log lines that say why.</summary>
public sealed class MariaDbException(string message, Exception? innerException = null) : Exception(message, innerException);
