using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Foobar.Http.Async;
using Foobar.Http.Backends;
using Foobar.Http.Forwarder.Http1;
using Foobar.Http.Front;
using Foobar.Http.LoadBalancing;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;

namespace Foobar.Http.Forwarder;

public sealed partial class HttpForwarder
{
    /// <summary>
    /// Forwards a request <see cref="Http1Front"/> read, as <see cref="ForwardAsync(HttpContext, BackendPool, string)"/>
    /// does one Kestrel read — the same backends, tries, passive checks, timeouts, headers and
    /// answers —, writing the response straight into the client's connection buffer.
    /// </summary>
    /// <param name="request">The request; every one the front reads is replayable (a body-less GET or HEAD).</param>
    /// <param name="client">The client's connection.</param>
    /// <param name="pool">Where it goes.</param>
    /// <param name="pages">The site's error pages for answers given here; null for plain text.</param>
    /// <param name="self">This server, for X-Served-By.</param>
    /// <param name="close">Whether the connection closes after this response (the client asked, or the server is stopping).</param>
    /// <param name="aborted">The client's connection closed.</param>
    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    internal async ValueTask<FrontOutcome> ForwardAsync(FrontRequest request, PipeWriter client, BackendPool pool, IErrorPages? pages, string self, bool close, CancellationToken aborted)
    {
        request.EnsureId();
        var tried = request.Tried;
        tried.Clear();
        var key = new BalanceKey(request.Client, request.Path);
        Acquired acquired;
        while ((acquired = await pool.AcquireAsync(tried, key, aborted).ConfigureAwait(false)).Backend is { } backend)
        {
            tried.Add(backend);
            // One try, in this method rather than one of its own: every request waits in it for
            // the backend, and each async frame that waits costs an allocation.
            FrontOutcome? outcome = null;
            try
            {
                var timeout = RentTimeout(aborted);
                BackendConnection? connection = null;
                try
                {
                    connection = await Http1Exchange.SendAsync(request, backend, ConnectTimeout, LocalAddress, timeout.Token).ConfigureAwait(false);
                }
                catch (HttpRequestException e) when (!aborted.IsCancellationRequested)
                {
                    // Always replayable: tried again on the next backend.
                    FailedTry(backend, e, replayable: true);
                }
                catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
                {
                    CountFailure(backend, $"no answer within {ResponseTimeout.TotalSeconds:0} s");
                    outcome = await AnswerAsync(client, StatusCodes.Status504GatewayTimeout, self, $"{backend.Name} did not answer within {ResponseTimeout.TotalSeconds:0} s",
                        pages, request, retryAfter: false, close, aborted).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    outcome = FrontOutcome.Close;
                }
                finally
                {
                    ReturnTimeout(timeout);
                }
                if (connection is not null)
                {
                    backend.CountSuccess();
                    outcome = await CopyResponseAsync(request, client, backend, connection, pages, self, close, aborted).ConfigureAwait(false);
                }
            }
            finally
            {
                pool.Release(backend);
            }
            if (outcome is { } done)
            {
                return done;
            }
        }
        var (status, reason) = Unanswered(acquired, pool, tried);
        return await AnswerAsync(client, status, self, reason, pages, request, acquired.Refusal is Refusal.QueueFull or Refusal.QueueTimeout, close, aborted).ConfigureAwait(false);
    }

    /// <summary>Passes the response head and body on, then puts the backend connection back or closes it.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private async ValueTask<FrontOutcome> CopyResponseAsync(FrontRequest request, PipeWriter client, Backend backend, BackendConnection connection, IErrorPages? pages, string self, bool close, CancellationToken aborted)
    {
        var head = connection.Head;
        backend.CountResponse(head.Status);
        if (head.Status == StatusCodes.Status101SwitchingProtocols)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            return await AnswerAsync(client, StatusCodes.Status502BadGateway, self, $"{backend.Name} switched protocols unasked", pages, request, retryAfter: false, close, aborted).ConfigureAwait(false);
        }
        close = FrontResponse.WriteHead(client, head, self, request, close);
        var reusable = false;
        try
        {
            var complete = await ResponseBody.CopyAsync(connection.Input, head, client, aborted, chunked: true).ConfigureAwait(false);
            reusable = complete && head.KeepAlive;
            if (await client.FlushAsync(aborted).ConfigureAwait(false) is { IsCompleted: true } or { IsCanceled: true })
            {
                return FrontOutcome.Close;
            }
            return close || !complete ? FrontOutcome.Close : FrontOutcome.KeepAlive;
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException or ConnectionResetException)
        {
            // The status line is gone already; the only honest signal left is to cut the connection.
            LogResponseCopyFailed(logger, e.Message);
            return FrontOutcome.Abort;
        }
        finally
        {
            if (reusable)
            {
                connection.Owner.Return(connection);
            }
            else
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private static async ValueTask<FrontOutcome> AnswerAsync(PipeWriter client, int status, string self, string reason, IErrorPages? pages, FrontRequest request, bool retryAfter, bool close, CancellationToken aborted)
    {
        FrontResponse.WriteError(client, status, self, reason, pages, request, retryAfter, close);
        var flushed = await client.FlushAsync(aborted).ConfigureAwait(false);
        return close || flushed.IsCompleted || flushed.IsCanceled ? FrontOutcome.Close : FrontOutcome.KeepAlive;
    }
}
