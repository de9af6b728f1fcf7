using System.Buffers;

namespace Foobar.Http.Transport;

/// <summary>
/// Whether Foobar's HTTP servers and their connections to backends run on <see cref="EpollLoop"/>
/// instead of the runtime's socket engine: on Linux x86-64 and arm64 unless
/// <c>FOOBAR_TRANSPORT=sockets</c> asks for Kestrel's own socket transport.
/// </summary>
/// <remarks>
/// Measured (docs/load-balancer.md, "Its own transport"): a proxied request costs 2 <c>recv</c>
/// and 2 <c>send</c> calls as with nginx, against 4 and 2 with the runtime's engine, which tries
/// every read before waiting for readiness.
/// </remarks>
public static class EpollTransport
{
    /// <summary>Whether the epoll transport is used in this process.</summary>
    public static bool Enabled { get; } = Native.IsSupported && Environment.GetEnvironmentVariable("FOOBAR_TRANSPORT") != "sockets";

    /// <summary>The buffers of connections to backends (Kestrel's listeners use the pool Kestrel gives the transport).</summary>
    internal static MemoryPool<byte> Pool { get; } = MemoryPool<byte>.Shared;
}
