using Foobar.Http.Backends;
using Foobar.Http.LoadBalancing;
using Foobar.LoadBalancer.Stats;

namespace Foobar.LoadBalancer.Tests;

public class StatsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Metrics_AreInPrometheusTextFormat_WithEveryBackendAndCount()
    {
        var pool = Pool(out _, out _);

        var text = PrometheusMetrics.Render("lb1", pool);

        Assert.Contains("# TYPE foobar_lb_backend_requests_total counter\n", text);
        Assert.Contains("foobar_lb_backend_requests_total{lb=\"lb1\",backend=\"web1\"} 3\n", text);
        Assert.Contains("foobar_lb_backend_up{lb=\"lb1\",backend=\"web2\"} 0\n", text);
        Assert.Contains("foobar_lb_backend_draining{lb=\"lb1\",backend=\"web1\"} 1\n", text);
        Assert.Contains("foobar_lb_backend_weight{lb=\"lb1\",backend=\"web1\"} 3\n", text);
        Assert.Contains("foobar_lb_backend_active_requests{lb=\"lb1\",backend=\"web1\"} 1\n", text);
        Assert.Contains("foobar_lb_backend_responses_total{lb=\"lb1\",backend=\"web1\",code=\"2xx\"} 2\n", text);
        Assert.Contains("foobar_lb_backend_responses_total{lb=\"lb1\",backend=\"web1\",code=\"5xx\"} 1\n", text);
        Assert.Contains("foobar_lb_backend_retries_total{lb=\"lb1\",backend=\"web2\"} 1\n", text);
        Assert.Contains("foobar_lb_backend_check_duration_seconds{lb=\"lb1\",backend=\"web1\"} 0.012\n", text);
        Assert.Contains("foobar_lb_backend_check_duration_seconds{lb=\"lb1\",backend=\"web2\"} NaN\n", text);
        Assert.Contains("foobar_lb_backend_max_active_requests{lb=\"lb1\",backend=\"web1\"} 50\n", text);
        Assert.Contains("foobar_lb_backend_effective_weight{lb=\"lb1\",backend=\"web1\"} 48\n", text);
        Assert.Contains("foobar_lb_queue_requests{lb=\"lb1\"} 0\n", text);
        Assert.Contains("foobar_lb_queue_refused_total{lb=\"lb1\"} 0\n", text);
        // Every sample line belongs to a family declared before it.
        var declared = new HashSet<string>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                declared.Add(line.Split(' ')[2]);
            }
            else if (!line.StartsWith('#'))
            {
                Assert.Contains(line[..line.IndexOf('{')], declared);
            }
        }
    }

    [Fact]
    public void Metrics_LabelValues_AreEscaped() =>
        Assert.Equal("a\\\\b\\\"c\\nd", PrometheusMetrics.Escape("a\\b\"c\nd"));

    [Fact]
    public void StatsPage_ShowsEveryServerItsStateAndLastCheck_Escaped()
    {
        var pool = Pool(out _, out _);

        var html = StatsPage.Render("lb<1>", pool, Now);

        Assert.Contains("<title>lb&lt;1&gt; statistics</title>", html);
        Assert.Contains("<tr class=\"draining\"><td>web1</td><td>draining</td><td>3</td><td>1</td><td>50</td><td>3</td><td>2</td>", html);
        Assert.Contains("<tr class=\"down\"><td>web2 (backup)</td><td>down</td>", html);
        Assert.Contains("2.0 s ago, passed (12 ms)", html);
        Assert.Contains("none yet", html);
        Assert.DoesNotContain("<1>", html);
    }

    /// <summary>web1: weight 3, drained, 3 requests (1 in flight), 2×2xx and 1×5xx, checked 2 s ago; web2: a down backup with a retry.</summary>
    private static BackendPool Pool(out Backend web1, out Backend web2)
    {
        web1 = new Backend("web1", new Uri("http://127.0.0.5/"), weight: 3) { Draining = true, MaxConcurrent = 50 };
        web2 = new Backend("web2", new Uri("http://127.0.0.6/"), backup: true);
        for (var i = 0; i < 3; i++)
        {
            web1.BeginRequest();
        }
        web1.EndRequest();
        web1.EndRequest();
        web1.CountResponse(200);
        web1.CountResponse(204);
        web1.CountResponse(503);
        web1.RecordCheck(new CheckResult(Now.AddSeconds(-2), true, "passed", TimeSpan.FromMilliseconds(12)));
        web2.SetState(BackendState.Down, "test");
        web2.CountRetry();
        return new BackendPool([web1, web2], new RoundRobinPolicy());
    }
}
