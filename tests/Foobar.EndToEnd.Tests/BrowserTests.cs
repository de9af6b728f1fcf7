using System.Security.Cryptography.X509Certificates;
using Foobar.EndToEnd.Tests.Browser;

namespace Foobar.EndToEnd.Tests;

/// <summary>A real browser signs the guestbook at https://www.foobar.com/ through the public address; the page is saved as a screenshot.</summary>
public sealed class BrowserTests
{
    /// <summary>Where the screenshot is kept after the run: artifacts/test-screenshots/ in the repository.</summary>
    public static string ScreenshotDirectory => Path.Combine(RunningTopology.RepositoryRoot, "artifacts", "test-screenshots");

    private static async Task<bool> EventuallyAsync(DevTools page, string condition, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if ((await page.EvaluateAsync(condition, cancellationToken))?.GetValue<bool>() == true)
                {
                    return true;
                }
            }
            catch (InvalidOperationException)
            {
                // The page is navigating: its context is gone until the next one loads.
            }
            try
            {
                await Task.Delay(100, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break; // Out of time: false, and the assertion says what the page showed.
            }
        }
        return false;
    }

    /// <summary>Where the page is and the start of its text: for an assertion's message when a step never happened.</summary>
    private static async Task<string> DescribeAsync(DevTools page)
    {
        using var enough = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            var said = await page.EvaluateAsync("location.href + ' — ' + (document.body ? document.body.innerText.slice(0, 600) : '(no body)')", enough.Token);
            return said?.GetValue<string>() ?? "(nothing)";
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException)
        {
            return $"(the page could not be read: {e.Message})";
        }
    }

    [Fact]
    public async Task Chromium_SignsTheGuestbookThroughTheForm_AndSeesItsEntry()
    {
        await using var topology = RunningTopology.WithHttps();
        await topology.InitializeAsync();
        using var site = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(topology.StateDirectory, "tls", "site.crt"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var token = timeout.Token;
        await using var browser = await HeadlessChromium.StartAsync(topology.PublicAddress, site, token);
        await using var page = await browser.PageAsync(token);
        var marker = $"Signed by a real browser {Guid.NewGuid():N}";

        await page.SendAsync("Page.navigate", new { url = "https://www.foobar.com/" }, token);
        var loaded = await EventuallyAsync(page, "document.readyState === 'complete' && !!document.querySelector('form.sign')", token);
        Assert.True(loaded, $"the guestbook form loads; the page: {(loaded ? "" : await DescribeAsync(page))}");
        await page.EvaluateAsync($$"""
            document.querySelector('input[name=name]').value = 'Chromium';
            document.querySelector('textarea[name=message]').value = {{System.Text.Json.JsonSerializer.Serialize(marker)}};
            document.querySelector('form.sign button').click();
            true
            """, token);
        var signed = await EventuallyAsync(page, $"location.hash.startsWith('#entry-') && document.body.innerText.includes({System.Text.Json.JsonSerializer.Serialize(marker)})", token);
        Assert.True(signed, signed ? "" : $"the new entry is on the page the form redirected to; the page: {await DescribeAsync(page)}\n" +
            topology.LogTails("lb1", "lb2", "web1", "web2", "web1.access", "web2.access", "app1", "app2"));
        var servedBy = await EventuallyAsync(page, "(document.getElementById('served-by')?.textContent ?? '').startsWith('lb')", token);
        var url = (await page.EvaluateAsync("location.href", token))?.GetValue<string>();
        var screenshot = await page.SendAsync("Page.captureScreenshot", new { format = "png", captureBeyondViewport = true }, token);
        Directory.CreateDirectory(ScreenshotDirectory);
        var file = Path.Combine(ScreenshotDirectory, "guestbook.png");
        var png = Convert.FromBase64String(screenshot["data"]!.GetValue<string>());
        await File.WriteAllBytesAsync(file, png, token);

        // The navigation's link to the infrastructure page, which shows the path over HTTPS.
        await page.EvaluateAsync("document.querySelector('nav.site a[href=\"/infrastructure\"]').click(); true", token);
        var infrastructure = await EventuallyAsync(page,
            "location.pathname === '/infrastructure' && document.readyState === 'complete' && document.querySelectorAll('.hops li').length === 5 && document.body.innerText.includes('over HTTPS ended at the load balancer')", token);
        var infrastructureShot = await page.SendAsync("Page.captureScreenshot", new { format = "png", captureBeyondViewport = true }, token);
        await File.WriteAllBytesAsync(Path.Combine(ScreenshotDirectory, "infrastructure.png"), Convert.FromBase64String(infrastructureShot["data"]!.GetValue<string>()), token);

        Assert.True(infrastructure, $"the infrastructure page shows five hops, over HTTPS; the page: {(infrastructure ? "" : await DescribeAsync(page))}");
        Assert.StartsWith("https://www.foobar.com/#entry-", url);
        Assert.True(servedBy, "the page's script shows the X-Served-By path");
        Assert.True(png.Length > 10_000 && png[..4].SequenceEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }), $"a PNG screenshot in {file}");
    }
}
