using Microsoft.AspNetCore.Builder;

namespace Foobar.Http;

/// <summary>
/// The web application builder every Foobar listener starts from: the slim one, with
/// configuration files not watched for changes.
/// </summary>
/// <remarks>
/// The default builder reloads appsettings.json on change, which puts an inotify watch on the
/// whole content root, subdirectories included. The state directory (<c>.foobar/</c>, with every
/// server's access and error logs) lives under it, so each line a web server logged woke every
/// server process of the site to read the event and stat the file: measured, an app server spent
/// about 250 µs of CPU per proxied request on it, and a chain of lb → web → app served 1,000
/// requests/s where the app alone served 28,000. Foobar reads its settings from the topology, not
/// from appsettings.json, so nothing is lost.
/// </remarks>
public static class QuietHost
{
    /// <summary>A slim builder rooted at <paramref name="contentRoot"/> (null: the current directory) that watches no file.</summary>
    public static WebApplicationBuilder CreateBuilder(string? contentRoot = null) => WebApplication.CreateSlimBuilder(new WebApplicationOptions
    {
        ContentRootPath = contentRoot,
        Args = ["--hostBuilder:reloadConfigOnChange=false"],
    });
}
