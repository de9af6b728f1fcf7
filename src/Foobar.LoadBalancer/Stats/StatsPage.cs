using System.Globalization;
using System.Net;
using System.Text;
using Foobar.Http.Backends;

namespace Foobar.LoadBalancer.Stats;

/// <summary>
/// A page like HAProxy's stats page, at <c>/stats</c> on the admin listener: every web server with
/// its state, weight, requests in flight, its limit and in total, responses by class, failures,
/// retries and the last health check; the queue's length and refusals. Refreshes itself every 2 s.
/// </summary>
public static class StatsPage
{
    /// <summary>The page for <paramref name="lb"/>'s <paramref name="pool"/> at <paramref name="now"/>.</summary>
    public static string Render(string lb, BackendPool pool, DateTimeOffset now)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"2\">")
            .Append("<title>").Append(Encode(lb)).Append(" statistics</title><style>")
            .Append("body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}")
            .Append("th,td{border:1px solid #ccc;padding:.3em .7em;text-align:right}th{background:#eee}td:first-child,td:nth-child(2),td:last-child{text-align:left}")
            .Append(".up{background:#d9f2d9}.down{background:#f7d4d4}.draining{background:#fdf1c7}</style></head><body>")
            .Append("<h1>").Append(Encode(lb)).Append(" — web servers</h1>")
            .Append("<p>").Append(now.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)).Append(" · ")
            .Append("queue: ").Append(pool.Queued.ToString(CultureInfo.InvariantCulture)).Append(" waiting, ")
            .Append(pool.QueueRefused.ToString(CultureInfo.InvariantCulture)).Append(" refused · ")
            .Append("<a href=\"/metrics\">Prometheus metrics</a></p>")
            .Append("<table><thead><tr><th>server</th><th>state</th><th>weight</th><th>active</th><th>max</th><th>requests</th>")
            .Append("<th>2xx</th><th>3xx</th><th>4xx</th><th>5xx</th><th>other</th><th>failures</th><th>retries</th><th>last check</th></tr></thead><tbody>");
        foreach (var backend in pool.Backends)
        {
            var state = backend.Draining ? "draining" : backend.State == BackendState.Up ? "up" : "down";
            var check = backend.LastCheck is { } last
                ? $"{(now - last.At).TotalSeconds:0.0} s ago, {last.Detail} ({last.Duration.TotalMilliseconds:0} ms)"
                : "none yet";
            html.Append("<tr class=\"").Append(state).Append("\"><td>").Append(Encode(backend.Name)).Append(backend.Backup ? " (backup)" : "")
                .Append("</td><td>").Append(state).Append("</td>");
            foreach (var number in new[] { backend.Weight, backend.ActiveRequests, backend.MaxConcurrent, backend.Requests, backend.ResponsesOfClass(2), backend.ResponsesOfClass(3),
                backend.ResponsesOfClass(4), backend.ResponsesOfClass(5), backend.ResponsesOfClass(1) + backend.ResponsesOfClass(0), backend.Failures, backend.Retried })
            {
                html.Append("<td>").Append(number.ToString(CultureInfo.InvariantCulture)).Append("</td>");
            }
            html.Append("<td>").Append(Encode(check)).Append("</td></tr>");
        }
        return html.Append("</tbody></table></body></html>").ToString();
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
