using Foobar.Http.Backends;
using Foobar.Http.Forwarder.Http1;
using Microsoft.AspNetCore.Http;

namespace Foobar.Http.Forwarder;

public sealed partial class HttpForwarder
{
    /// <summary>Copies the response read by <see cref="Http1Exchange"/>, then puts the connection back or closes it.</summary>
    private async Task CopyResponseAsync(HttpContext context, Backend backend, BackendConnection connection, string self)
    {
        var head = connection.Head;
        var outgoing = context.Response;
        backend.CountResponse(head.Status);
        if (head.Status == StatusCodes.Status101SwitchingProtocols)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            await ErrorResponse.WriteAsync(context, StatusCodes.Status502BadGateway, self, $"{backend.Name} switched protocols unasked").ConfigureAwait(false);
            return;
        }
        outgoing.StatusCode = head.Status;
        var headers = outgoing.Headers;
        for (var i = 0; i < head.Headers.Count; i++)
        {
            var (name, value) = head.Headers[i];
            if (RepeatsAnEarlierName(head.Headers, i))
            {
                headers.Append(name, value);
            }
            else
            {
                headers[name] = value;
            }
        }
        if (head.Framing == BodyFraming.ContentLength)
        {
            outgoing.ContentLength = head.ContentLength;
        }
        ServedBy.Set(outgoing, self, head.ServedBy);
        if (!headers.ContainsKey(RequestIdHeader))
        {
            headers[RequestIdHeader] = context.Request.Headers[RequestIdHeader];
        }
        var reusable = false;
        try
        {
            reusable = await ResponseBody.CopyAsync(connection.Input, head, outgoing.BodyWriter, context.RequestAborted).ConfigureAwait(false)
                && head.KeepAlive;
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException or Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            // The status line is gone already; the only honest signal left is to cut the connection.
            LogResponseCopyFailed(logger, e.Message);
            context.Abort();
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

    /// <summary>Whether a header before index <paramref name="i"/> has the same name (Set-Cookie, say): then the value is added, not replacing.</summary>
    private static bool RepeatsAnEarlierName(List<KeyValuePair<string, string>> headers, int i)
    {
        var name = headers[i].Key;
        for (var j = 0; j < i; j++)
        {
            if (ReferenceEquals(headers[j].Key, name) || headers[j].Key.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }
}
