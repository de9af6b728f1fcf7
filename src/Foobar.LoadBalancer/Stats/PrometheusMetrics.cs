using System.Globalization;
using System.Text;
using Foobar.Http.Backends;

namespace Foobar.LoadBalancer.Stats;

/// <summary>
/// The load balancer's web servers in Prometheus' text exposition format (version 0.0.4), served
/// at <c>/metrics</c> on the admin listener: <c>foobar_lb_</c> metrics, labelled by load balancer
/// and backend; counters end in <c>_total</c>, as Prometheus' conventions ask.
/// </summary>
public static class PrometheusMetrics
{
    /// <summary>The Content-Type of the format.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private static readonly string[] Classes = ["other", "1xx", "2xx", "3xx", "4xx", "5xx"];

    /// <summary>Every metric of <paramref name="pool"/> as seen by <paramref name="lb"/>.</summary>
    public static string Render(string lb, BackendPool pool)
    {
        var text = new StringBuilder();
        Gauge(text, "foobar_lb_backend_up", "Whether the web server passes its health checks (1) or not (0).", lb, pool, b => b.State == BackendState.Up ? 1 : 0);
        Gauge(text, "foobar_lb_backend_draining", "Whether an operator drained the web server (foobar lb drain): no new requests.", lb, pool, b => b.Draining ? 1 : 0);
        Gauge(text, "foobar_lb_backend_weight", "The web server's share of the requests.", lb, pool, b => b.Weight);
        Gauge(text, "foobar_lb_backend_active_requests", "Requests forwarded to the web server and not finished.", lb, pool, b => b.ActiveRequests);
        Counter(text, "foobar_lb_backend_requests_total", "Requests forwarded to the web server.", lb, pool, b => b.Requests);
        Counter(text, "foobar_lb_backend_failures_total", "Forwards to the web server that got no response.", lb, pool, b => b.Failures);
        Counter(text, "foobar_lb_backend_retries_total", "Requests that failed on the web server and were handed to the next one.", lb, pool, b => b.Retried);
        Header(text, "foobar_lb_backend_responses_total", "counter", "Responses from the web server passed on, by status class.");
        foreach (var backend in pool.Backends)
        {
            for (var c = 1; c < Classes.Length; c++)
            {
                Sample(text, "foobar_lb_backend_responses_total", lb, backend.Name, backend.ResponsesOfClass(c), ("code", Classes[c]));
            }
            Sample(text, "foobar_lb_backend_responses_total", lb, backend.Name, backend.ResponsesOfClass(0), ("code", Classes[0]));
        }
        Gauge(text, "foobar_lb_backend_check_duration_seconds", "How long the last health check took.", lb, pool, b => b.LastCheck?.Duration.TotalSeconds ?? double.NaN);
        Gauge(text, "foobar_lb_backend_max_active_requests", "The web server's limit of requests in flight (maxconn); 0 for none.", lb, pool, b => b.MaxConcurrent);
        Gauge(text, "foobar_lb_backend_effective_weight", "The weight the balancing uses now, in 1/16 of a weight unit: lower during a slow start.", lb, pool, b => b.EffectiveWeight);
        Header(text, "foobar_lb_queue_requests", "gauge", "Requests waiting for a web server below its limit.");
        text.Append("foobar_lb_queue_requests{lb=\"").Append(Escape(lb)).Append("\"} ").Append(Format(pool.Queued)).Append('\n');
        Header(text, "foobar_lb_queue_refused_total", "counter", "Requests refused with 503 because the queue was full or their wait ran out.");
        text.Append("foobar_lb_queue_refused_total{lb=\"").Append(Escape(lb)).Append("\"} ").Append(Format(pool.QueueRefused)).Append('\n');
        return text.ToString();
    }

    private static void Gauge(StringBuilder text, string name, string help, string lb, BackendPool pool, Func<Backend, double> value) =>
        Family(text, name, "gauge", help, lb, pool, value);

    private static void Counter(StringBuilder text, string name, string help, string lb, BackendPool pool, Func<Backend, double> value) =>
        Family(text, name, "counter", help, lb, pool, value);

    private static void Family(StringBuilder text, string name, string type, string help, string lb, BackendPool pool, Func<Backend, double> value)
    {
        Header(text, name, type, help);
        foreach (var backend in pool.Backends)
        {
            Sample(text, name, lb, backend.Name, value(backend));
        }
    }

    /// <summary>A metric family's <c># HELP</c> and <c># TYPE</c> lines.</summary>
    public static void Header(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
            .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Sample(StringBuilder text, string name, string lb, string backend, double value, (string Name, string Value)? extra = null)
    {
        text.Append(name).Append("{lb=\"").Append(Escape(lb)).Append("\",backend=\"").Append(Escape(backend)).Append('"');
        if (extra is { } label)
        {
            text.Append(',').Append(label.Name).Append("=\"").Append(Escape(label.Value)).Append('"');
        }
        text.Append("} ").Append(Format(value)).Append('\n');
    }

    /// <summary>Label values escape backslash, double quote and newline.</summary>
    public static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    /// <summary>A sample's value as the format writes it (shortest round-trip form, <c>NaN</c>).</summary>
    public static string Format(double value) => double.IsNaN(value) ? "NaN" : value.ToString("R", CultureInfo.InvariantCulture);
}
