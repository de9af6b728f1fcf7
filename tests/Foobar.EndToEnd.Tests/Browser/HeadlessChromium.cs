using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Foobar.EndToEnd.Tests.Browser;

/// <summary>
/// Debian's Chromium, headless, with every flag DESIGN.md asks for so it never looks up or calls
/// an outside host: www.foobar.com maps to the public address and every other name fails. It
/// trusts the site's certificate by its public key (as a browser would after importing ca.crt).
/// </summary>
internal sealed partial class HeadlessChromium : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _profile;

    private HeadlessChromium(Process process, string profile, Uri devTools)
    {
        _process = process;
        _profile = profile;
        DevToolsEndpoint = devTools;
    }

    /// <summary>The browser's DevTools HTTP endpoint (<c>/json/list</c>).</summary>
    public Uri DevToolsEndpoint { get; }

    [GeneratedRegex(@"DevTools listening on ws://127\.0\.0\.1:(\d+)/")]
    private static partial Regex Listening();

    public static async Task<HeadlessChromium> StartAsync(IPAddress site, X509Certificate2 siteCertificate, CancellationToken cancellationToken)
    {
        var profile = Directory.CreateTempSubdirectory("foobar-chromium-").FullName;
        var spki = Convert.ToBase64String(SHA256.HashData(siteCertificate.PublicKey.ExportSubjectPublicKeyInfo()));
        var start = new ProcessStartInfo("chromium")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            $"--user-data-dir={profile}", "--remote-debugging-port=0", "--window-size=1100,1400",
            $"--host-resolver-rules=MAP www.foobar.com {site}, MAP * ~NOTFOUND",
            $"--ignore-certificate-errors-spki-list={spki}",
            "about:blank",
        })
        {
            start.ArgumentList.Add(argument);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("chromium did not start");
        _ = process.StandardOutput.ReadToEndAsync(cancellationToken);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        while (await process.StandardError.ReadLineAsync(deadline.Token) is { } line)
        {
            if (Listening().Match(line) is { Success: true } match)
            {
                _ = process.StandardError.ReadToEndAsync(cancellationToken);
                return new HeadlessChromium(process, profile, new Uri($"http://127.0.0.1:{match.Groups[1].Value}/"));
            }
        }
        throw new InvalidOperationException($"chromium exited ({(process.HasExited ? process.ExitCode : -1)}) without a DevTools endpoint");
    }

    /// <summary>The DevTools connection of the first page.</summary>
    public async Task<DevTools> PageAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        var targets = JsonNode.Parse(await http.GetStringAsync(new Uri(DevToolsEndpoint, "json/list"), cancellationToken))!.AsArray();
        var page = targets.First(t => t!["type"]!.GetValue<string>() == "page")!;
        return await DevTools.ConnectAsync(new Uri(page["webSocketDebuggerUrl"]!.GetValue<string>()), cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        Directory.Delete(_profile, recursive: true);
    }
}
