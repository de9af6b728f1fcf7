using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Foobar.Http;

/// <summary>
/// HTTP/1.1 and HTTP/2 on one cleartext port: a connection that opens with HTTP/2's connection
/// preface (RFC 9113 §3.4, "prior knowledge", as <c>curl --http2-prior-knowledge</c>, gRPC and
/// .NET's HttpClient send it) is served as HTTP/2, any other as HTTP/1.1.
/// </summary>
/// <remarks>
/// Kestrel picks HTTP/2 on an endpoint that allows both only when TLS negotiated <c>h2</c> by
/// ALPN; without TLS it always takes HTTP/1.1 (dotnet/aspnetcore#56984). This connection
/// middleware looks at the first bytes before Kestrel does, without consuming them, and for the
/// preface reports the connection as one that negotiated <c>h2</c>. The request's scheme stays
/// the client's <c>:scheme</c> (http), which <see cref="KestrelServerOptions.AllowAlternateSchemes"/>
/// lets through. A client that opens a connection and sends nothing is cut after
/// <see cref="KestrelSettings.RequestHeadersTimeout"/>, as one that sends headers too slowly.
/// </remarks>
public static class Http2PriorKnowledge
{
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    /// <summary>Serves HTTP/1.1 and prior-knowledge HTTP/2 on <paramref name="listen"/>.</summary>
    /// <remarks>
    /// The listener keeps Kestrel's default protocols, HTTP/1.1 and HTTP/2: set explicitly on a
    /// cleartext endpoint they make Kestrel warn, wrongly here, that HTTP/2 is not enabled.
    /// </remarks>
    public static ListenOptions UseHttp2PriorKnowledge(this ListenOptions listen)
    {
        // Decided when Kestrel builds the listener, after every part of its configuration ran.
        listen.Use(next => NotHttp.TryGetValue(listen, out _) ? next : connection => DetectAsync(connection, next));
        return listen;
    }

    /// <summary>
    /// Leaves <paramref name="listen"/>'s connections alone: it carries something other than HTTP
    /// (a layer-4 passthrough), where waiting for the client's first bytes would stall a protocol in
    /// which the server speaks first (MySQL) and cut a quiet client.
    /// </summary>
    public static void Skip(ListenOptions listen) => NotHttp.AddOrUpdate(listen, listen);

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ListenOptions, object> NotHttp = [];

    private static async Task DetectAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        if (connection.Features.Get<ITlsConnectionFeature>() is null)
        {
            switch (await OpensWithPrefaceAsync(connection).ConfigureAwait(false))
            {
                case null:
                    connection.Abort(new ConnectionAbortedException("nothing sent within the request headers timeout"));
                    return;
                case true:
                    connection.Features.Set<ITlsApplicationProtocolFeature>(NegotiatedHttp2.Instance);
                    connection.Features.Set<ITlsConnectionFeature>(NegotiatedHttp2.Instance);
                    break;
            }
        }
        await next(connection).ConfigureAwait(false);
    }

    /// <summary>Whether the first bytes are the preface; null when too few came within the timeout. Consumes nothing.</summary>
    private static async Task<bool?> OpensWithPrefaceAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        using var deadline = new CancellationTokenSource(KestrelSettings.RequestHeadersTimeout);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return null;
            }
            var buffer = result.Buffer;
            var (matches, length) = Compare(buffer);
            if (!matches || length == Preface.Length || result.IsCompleted || result.IsCanceled)
            {
                input.AdvanceTo(buffer.Start);
                return matches && length == Preface.Length;
            }
            // A prefix of the preface so far: wait for more, keeping every byte for Kestrel.
            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Whether the bytes so far agree with the preface, and how many were compared.</summary>
    private static (bool Matches, int Length) Compare(ReadOnlySequence<byte> buffer)
    {
        var length = (int)Math.Min(buffer.Length, Preface.Length);
        Span<byte> head = stackalloc byte[Preface.Length];
        buffer.Slice(0, length).CopyTo(head);
        return (head[..length].SequenceEqual(Preface.AsSpan(0, length)), length);
    }

    /// <summary>What a TLS handshake that negotiated <c>h2</c> would have left on the connection.</summary>
    private sealed class NegotiatedHttp2 : ITlsApplicationProtocolFeature, ITlsConnectionFeature
    {
        public static readonly NegotiatedHttp2 Instance = new();

        public ReadOnlyMemory<byte> ApplicationProtocol { get; } = "h2"u8.ToArray();

        public X509Certificate2? ClientCertificate
        {
            get => null;
            set => throw new NotSupportedException("a cleartext connection has no client certificate");
        }

        public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => Task.FromResult<X509Certificate2?>(null);
    }
}
