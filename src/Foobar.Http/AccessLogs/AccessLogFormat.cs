namespace Foobar.Http.AccessLogs;

/// <summary>How an access log line is written.</summary>
public enum AccessLogFormat
{
    /// <summary>No access log.</summary>
    Off,

    /// <summary>
    /// nginx's <c>combined</c> followed by the request time in seconds, the upstream servers, the
    /// request id and X-Forwarded-For:
    /// <c>1.2.3.4 - - [22/Nov/2026:16:55:57 +0000] "GET / HTTP/1.1" 200 1024 "-" "curl/8" 0.003 "app1" "6ab9…" "10.0.0.7"</c>.
    /// </summary>
    Combined,

    /// <summary>One JSON object per line, the same fields by name.</summary>
    Json,
}
