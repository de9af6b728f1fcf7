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
            await Task.Delay(100, cancellationToken);
        }
        return false;
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
        Assert.True(await EventuallyAsync(page, "document.readyState === 'complete' && !!document.querySelector('form.sign')", token), "the guestbook form loads");
        await page.EvaluateAsync($$"""
            document.querySelector('input[name=name]').value = 'Chromium';
            document.querySelector('textarea[name=message]').value = {{System.Text.Json.JsonSerializer.Serialize(marker)}};
            document.querySelector('form.sign button').click();
            true
            """, token);
        var signed = await EventuallyAsync(page, $"location.hash.startsWith('#entry-') && document.body.innerText.includes({System.Text.Json.JsonSerializer.Serialize(marker)})", token);
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

        Assert.True(signed, "the new entry is on the page the form redirected to");
        Assert.True(infrastructure, "the infrastructure page shows five hops, over HTTPS");
        Assert.StartsWith("https://www.foobar.com/#entry-", url);
        Assert.True(servedBy, "the page's script shows the X-Served-By path");
        Assert.True(png.Length > 10_000 && png[..4].SequenceEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }), $"a PNG screenshot in {file}");
    }
}
