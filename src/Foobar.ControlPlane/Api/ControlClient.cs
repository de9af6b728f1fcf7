using System.Net.Http.Json;
using System.Net.Sockets;
using Foobar.ControlPlane.State;
using Foobar.ControlPlane.Status;

namespace Foobar.ControlPlane.Api;

/// <summary>Talks to a running control plane through its state directory's socket.</summary>
public sealed class ControlClient : IDisposable
{
    private readonly HttpClient _http;

    /// <summary>For a rollout, which takes as long as its servers take to restart: a minute or more.</summary>
    private readonly HttpClient _rollout;

    private ControlClient(StateDirectory state)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(state.ControlSocket), cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        _http = new HttpClient(handler) { BaseAddress = new Uri("http://control-plane/"), Timeout = TimeSpan.FromSeconds(60) };
        _rollout = new HttpClient(handler, disposeHandler: false) { BaseAddress = _http.BaseAddress, Timeout = TimeSpan.FromMinutes(30) };
    }

    /// <summary>A client if a control plane answers on <paramref name="state"/>'s socket; null otherwise.</summary>
    public static async Task<ControlClient?> TryConnectAsync(StateDirectory state, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(state.ControlSocket))
        {
            return null;
        }
        var client = new ControlClient(state);
        try
        {
            await client.StatusAsync(cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch (HttpRequestException)
        {
            client.Dispose();
            return null;
        }
    }

    /// <summary>The current status.</summary>
    public async Task<StatusReport> StatusAsync(CancellationToken cancellationToken = default) =>
        await _http.GetFromJsonAsync<StatusReport>("status", ControlJson.Options, cancellationToken).ConfigureAwait(false)
        ?? throw new HttpRequestException("empty status from the control plane");

    /// <summary>Runs <paramref name="action"/> on <paramref name="server"/>; returns (ok, message).</summary>
    public async Task<(bool Ok, string Message)> ActAsync(string server, string action, CancellationToken cancellationToken = default)
    {
        using var response = await _http.PostAsync(new Uri($"servers/{Uri.EscapeDataString(server)}/{Uri.EscapeDataString(action)}", UriKind.Relative), null, cancellationToken).ConfigureAwait(false);
        var message = await response.Content.ReadFromJsonAsync<ControlMessage>(ControlJson.Options, cancellationToken).ConfigureAwait(false);
        return (response.IsSuccessStatusCode, message?.Message ?? response.ReasonPhrase ?? "");
    }

    /// <summary>The database tier; (null, message) when the topology has none.</summary>
    public async Task<(Database.DbStatusReport? Report, string Message)> DbStatusAsync(CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync(new Uri("db", UriKind.Relative), cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var message = await response.Content.ReadFromJsonAsync<ControlMessage>(ControlJson.Options, cancellationToken).ConfigureAwait(false);
            return (null, message?.Message ?? response.ReasonPhrase ?? "");
        }
        return (await response.Content.ReadFromJsonAsync<Database.DbStatusReport>(ControlJson.Options, cancellationToken).ConfigureAwait(false), "");
    }

    /// <summary>Switches the primary to <paramref name="target"/> (or the best replica); returns (ok, message).</summary>
    public async Task<(bool Ok, string Message)> SwitchoverAsync(string? target, CancellationToken cancellationToken = default)
    {
        var uri = target is null ? "db/switchover" : $"db/switchover?to={Uri.EscapeDataString(target)}";
        using var response = await _http.PostAsync(new Uri(uri, UriKind.Relative), null, cancellationToken).ConfigureAwait(false);
        var message = await response.Content.ReadFromJsonAsync<ControlMessage>(ControlJson.Options, cancellationToken).ConfigureAwait(false);
        return (response.IsSuccessStatusCode, message?.Message ?? response.ReasonPhrase ?? "");
    }

    /// <summary>
    /// Drains (<paramref name="drain"/>) or readies a server behind the <paramref name="front"/>
    /// tier: a web server on every load balancer (lb), an app server on every web server (web); returns (ok, message).
    /// </summary>
    public async Task<(bool Ok, string Message)> SetDrainingAsync(string front, string server, bool drain, CancellationToken cancellationToken = default)
    {
        var uri = $"{front}/{(drain ? "drain" : "ready")}?server={Uri.EscapeDataString(server)}";
        using var response = await _http.PostAsync(new Uri(uri, UriKind.Relative), null, cancellationToken).ConfigureAwait(false);
        var message = await response.Content.ReadFromJsonAsync<ControlMessage>(ControlJson.Options, cancellationToken).ConfigureAwait(false);
        return (response.IsSuccessStatusCode, message?.Message ?? response.ReasonPhrase ?? "");
    }

    /// <summary>Restarts the servers of <paramref name="tier"/> one at a time, each out of rotation meanwhile; returns (ok, a line per server).</summary>
    public async Task<(bool Ok, string Message)> RolloutAsync(string tier, CancellationToken cancellationToken = default)
    {
        using var response = await _rollout.PostAsync(new Uri($"rollout/{Uri.EscapeDataString(tier)}", UriKind.Relative), null, cancellationToken).ConfigureAwait(false);
        var message = await response.Content.ReadFromJsonAsync<ControlMessage>(ControlJson.Options, cancellationToken).ConfigureAwait(false);
        return (response.IsSuccessStatusCode, message?.Message ?? response.ReasonPhrase ?? "");
    }

    /// <summary>Applies the topology file at <paramref name="topologyFile"/> (absolute) to the running infrastructure; returns (ok, message).</summary>
    public async Task<(bool Ok, string Message)> ReloadAsync(string topologyFile, CancellationToken cancellationToken = default)
    {
        using var response = await _http.PostAsync(new Uri($"reload?topology={Uri.EscapeDataString(topologyFile)}", UriKind.Relative), null, cancellationToken).ConfigureAwait(false);
        var message = await response.Content.ReadFromJsonAsync<ControlMessage>(ControlJson.Options, cancellationToken).ConfigureAwait(false);
        return (response.IsSuccessStatusCode, message?.Message ?? response.ReasonPhrase ?? "");
    }

    /// <summary>Asks the control plane to stop everything and exit.</summary>
    public async Task ShutdownAsync(CancellationToken cancellationToken = default)
    {
        using var response = await _http.PostAsync(new Uri("shutdown", UriKind.Relative), null, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _rollout.Dispose();
        _http.Dispose();
    }
}
