using Foobar.ControlPlane.State;
using Foobar.Topology;
using Foobar.Topology.Loading;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Foobar.ControlPlane.Api;

/// <summary>
/// The control plane's HTTP API on a Unix socket in the state directory: no port to clash with,
/// and only users who can enter the (0700) state directory can reach it.
/// </summary>
/// <remarks>
/// <c>GET /status</c>; <c>POST /servers/{name}/{kill|stop|start|restart}</c>; <c>POST /reload?topology=PATH</c>; <c>GET /db</c>;
/// <c>POST /db/switchover?to=NAME</c>; <c>POST /lb/{drain|ready}?server=NAME</c> (a web server), <c>POST /web/{drain|ready}?server=NAME</c>
/// (an app server); <c>POST /rollout/{web|app}</c>; <c>POST /shutdown</c>.
/// </remarks>
internal static class ControlApi
{
    public static async Task<WebApplication> StartAsync(ControlPlane controlPlane, StateDirectory state)
    {
        if (File.Exists(state.ControlSocket))
        {
            File.Delete(state.ControlSocket);
        }
        var builder = Foobar.Http.QuietHost.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(state.ControlSocket));
        var app = builder.Build();
        app.MapGet("/status", () => Results.Json(controlPlane.Snapshot(), ControlJson.Options));
        app.MapPost("/servers/{name}/{action}", async (string name, string action) =>
        {
            try
            {
                return Results.Json(new ControlMessage(await controlPlane.ActAsync(name, action).ConfigureAwait(false)), ControlJson.Options);
            }
            catch (ArgumentException e)
            {
                return Results.Json(new ControlMessage(e.Message), ControlJson.Options, statusCode: StatusCodes.Status404NotFound);
            }
        });
        app.MapGet("/db", () =>
        {
            try
            {
                return Results.Json(controlPlane.DbStatus(), ControlJson.Options);
            }
            catch (InvalidOperationException e)
            {
                return Results.Json(new ControlMessage(e.Message), ControlJson.Options, statusCode: StatusCodes.Status404NotFound);
            }
        });
        app.MapPost("/db/switchover", async (string? to, CancellationToken cancellationToken) =>
        {
            try
            {
                return Results.Json(new ControlMessage(await controlPlane.SwitchoverAsync(to, cancellationToken).ConfigureAwait(false)), ControlJson.Options);
            }
            catch (InvalidOperationException e)
            {
                return Results.Json(new ControlMessage(e.Message), ControlJson.Options, statusCode: StatusCodes.Status409Conflict);
            }
            catch (Exception e) when (e is Foobar.MySql.MySqlException or TimeoutException)
            {
                return Results.Json(new ControlMessage($"switchover failed: {e.Message}; see 'foobar db status'"), ControlJson.Options, statusCode: StatusCodes.Status500InternalServerError);
            }
        });
        foreach (var front in new[] { Role.Lb, Role.Web })
        {
            app.MapPost($"/{front.Name()}/{{action}}", async (string action, string? server, CancellationToken cancellationToken) =>
            {
                if (action is not ("drain" or "ready") || string.IsNullOrEmpty(server))
                {
                    return Results.Json(new ControlMessage($"use POST /{front.Name()}/drain?server=NAME or /{front.Name()}/ready?server=NAME"), ControlJson.Options, statusCode: StatusCodes.Status404NotFound);
                }
                try
                {
                    return Results.Json(new ControlMessage(await controlPlane.SetDrainingAsync(front, server, action == "drain", cancellationToken).ConfigureAwait(false)), ControlJson.Options);
                }
                catch (ArgumentException e)
                {
                    return Results.Json(new ControlMessage(e.Message), ControlJson.Options, statusCode: StatusCodes.Status404NotFound);
                }
            });
        }
        app.MapPost("/rollout/{tier}", async (string tier, CancellationToken cancellationToken) =>
        {
            if (!RoleNames.TryParse(tier, out var role))
            {
                return Results.Json(new ControlMessage($"unknown tier '{tier}'; use web or app"), ControlJson.Options, statusCode: StatusCodes.Status404NotFound);
            }
            try
            {
                return Results.Json(new ControlMessage(await controlPlane.RolloutAsync(role, cancellationToken).ConfigureAwait(false)), ControlJson.Options);
            }
            catch (ArgumentException e)
            {
                return Results.Json(new ControlMessage(e.Message), ControlJson.Options, statusCode: StatusCodes.Status400BadRequest);
            }
            catch (InvalidOperationException e)
            {
                return Results.Json(new ControlMessage(e.Message), ControlJson.Options, statusCode: StatusCodes.Status409Conflict);
            }
        });
        app.MapPost("/reload", async (string? topology, CancellationToken cancellationToken) =>
        {
            if (string.IsNullOrEmpty(topology) || !Path.IsPathFullyQualified(topology))
            {
                return Results.Json(new ControlMessage("use POST /reload?topology=ABSOLUTE_PATH"), ControlJson.Options, statusCode: StatusCodes.Status400BadRequest);
            }
            try
            {
                return Results.Json(new ControlMessage(await controlPlane.ReloadAsync(topology, cancellationToken).ConfigureAwait(false)), ControlJson.Options);
            }
            catch (TopologyException e)
            {
                return Results.Json(new ControlMessage($"{topology} does not load, nothing changed:{Environment.NewLine}{e.Message}"), ControlJson.Options, statusCode: StatusCodes.Status422UnprocessableEntity);
            }
            catch (InvalidOperationException e)
            {
                return Results.Json(new ControlMessage(e.Message + "; nothing changed"), ControlJson.Options, statusCode: StatusCodes.Status409Conflict);
            }
        });
        app.MapPost("/shutdown", () =>
        {
            controlPlane.RequestShutdown();
            return Results.Json(new ControlMessage("shutting down"), ControlJson.Options, statusCode: StatusCodes.Status202Accepted);
        });
        await app.StartAsync().ConfigureAwait(false);
        return app;
    }
}

/// <summary>A one-sentence answer of the control API.</summary>
public sealed record ControlMessage(string Message);
