using System.IO.Pipelines;
using System.Net;
using System.Runtime.CompilerServices;
using Foobar.Http.Async;
using Foobar.Http.Backends;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http;

namespace Foobar.Http.Forwarder.Http1;

/// <summary>
/// The forwarder's lean path: a body-less, replayable HTTP/1.x request (the bulk of a site's
/// traffic) goes to the backend over one of <see cref="BackendConnections"/>, its head written
/// from Kestrel's parsed request and the response head parsed from the connection's buffer.
/// Everything else (bodies, upgrades, HTTP/2 clients, TLS to the backend) takes
/// <c>SocketsHttpHandler</c>.
/// </summary>
/// <remarks>Measured against that path in bench/lb.sh; see docs/load-balancer.md.</remarks>
internal static class Http1Exchange
{
    /// <summary>Whether <paramref name="context"/>'s request to <paramref name="backend"/> takes this path.</summary>
    public static bool Suits(HttpContext context, Backend backend, bool replayable) =>
        replayable
        && (HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol))
        && context.Features.Get<IHttpUpgradeFeature>() is not { IsUpgradableRequest: true }
        && backend.BaseUri.Scheme == Uri.UriSchemeHttp;

    /// <summary>
    /// Sends the request <paramref name="head"/> writes and reads the response head into the
    /// returned connection's <see cref="BackendConnection.Head"/>; the caller copies the body and
    /// returns or closes the connection. An idle connection the backend closed meanwhile is
    /// replaced by a new one once.
    /// </summary>
    /// <exception cref="HttpRequestException">No connection (<see cref="HttpRequestError.ConnectionError"/>), no answer or a malformed one.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="token"/> was cancelled (timeout or client gone).</exception>
    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    public static async ValueTask<BackendConnection> SendAsync<THead>(THead head, Backend backend, TimeSpan connectTimeout, IPAddress? localAddress, CancellationToken token)
        where THead : IRequestHead
    {
        var connections = BackendConnections.For(backend);
        var connection = connections.TakeIdle();
        while (true)
        {
            connection ??= await connections.ConnectAsync(connectTimeout, localAddress, token).ConfigureAwait(false);
            try
            {
                head.Write(connection.Output, backend);
                connection.Requests++;
                await connection.Output.FlushAsync(token).ConfigureAwait(false);
                // The response head, read here rather than in a method of its own: every request
                // waits for it, and each async frame that waits costs an allocation.
                var received = false;
                while (true)
                {
                    ReadResult result;
                    try
                    {
                        result = await connection.Input.ReadAsync(token).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // Reset by the backend: the transport completes the pipe with the error.
                        if (received)
                        {
                            throw new HttpRequestException(HttpRequestError.ResponseEnded, $"The connection failed in the middle of the response head: {e.Message}", e);
                        }
                        break;
                    }
                    var read = ReadHead(connection, result, head.IsHead, ref received);
                    if (read == HeadRead.Answered)
                    {
                        return connection;
                    }
                    if (read == HeadRead.Ended)
                    {
                        break;
                    }
                }
            }
            catch (IOException e) when (!token.IsCancellationRequested)
            {
                // The request could not be sent: the backend had reset the connection (or its
                // process died) before or as it went out. A kept connection is replaced below.
                await connection.DisposeAsync().ConfigureAwait(false);
                if (connection.Requests == 1)
                {
                    throw new HttpRequestException(HttpRequestError.ResponseEnded, $"{backend.Name} reset the connection as the request went out: {e.Message}", e);
                }
                connection = null;
                continue;
            }
            catch
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            await connection.DisposeAsync().ConfigureAwait(false);
            if (connection.Requests == 1)
            {
                throw new HttpRequestException(HttpRequestError.ResponseEnded, $"{backend.Name} closed the connection without answering.");
            }
            // A kept connection the backend had closed as the request went out: nothing reached
            // the application, so a new connection carries it.
            connection = null;
        }
    }

    /// <summary>What one read of the backend's connection gave.</summary>
    private enum HeadRead
    {
        /// <summary>The head is incomplete (or was an interim response): read on.</summary>
        More,
        /// <summary>The final response head (or an unasked 101) is in <see cref="BackendConnection.Head"/>.</summary>
        Answered,
        /// <summary>The connection ended before any byte of an answer.</summary>
        Ended,
    }

    /// <summary>Parses what <paramref name="result"/> holds, skipping interim responses (100, 103), and advances the input past what it used.</summary>
    /// <exception cref="HttpRequestException">The head is malformed, or the connection ended in the middle of it.</exception>
    private static HeadRead ReadHead(BackendConnection connection, ReadResult result, bool requestWasHead, ref bool received)
    {
        var input = connection.Input;
        var buffer = result.Buffer;
        while (true)
        {
            received |= !buffer.IsEmpty;
            bool parsed;
            SequencePosition consumed;
            try
            {
                parsed = connection.Head.TryParse(buffer, requestWasHead, out consumed);
            }
            catch
            {
                input.AdvanceTo(buffer.Start);
                throw;
            }
            if (!parsed)
            {
                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    return !received ? HeadRead.Ended : throw new HttpRequestException(HttpRequestError.ResponseEnded, "The backend closed the connection in the middle of the response head.");
                }
                return HeadRead.More;
            }
            // A 101 ends the exchange too: the caller refuses it, as nothing asked for an upgrade.
            if (connection.Head.Status is >= 200 or StatusCodes.Status101SwitchingProtocols)
            {
                input.AdvanceTo(consumed);
                return HeadRead.Answered;
            }
            // An interim response: the final one may follow in the same buffer.
            buffer = buffer.Slice(consumed);
        }
    }
}
