using System.Runtime.InteropServices;
using Foobar.Http.Backends;

namespace Foobar.Http.LoadBalancing;

/// <summary>
/// Sticks a request to a backend by a hash of the client's address (<c>source</c>) or of the URL
/// path (<c>uri</c>), as HAProxy's <c>balance source</c> and <c>balance uri</c>. Rendezvous
/// (highest random weight) hashing: every backend scores the key and the best score wins, so when
/// a backend goes down only its own keys move, when it returns only they move back, and both load
/// balancers of the pair, hashing the same way, agree.
/// </summary>
public sealed class HashPolicy(HashPolicy.By by) : ILoadBalancingPolicy
{
    /// <summary>What is hashed.</summary>
    public enum By
    {
        /// <summary>The client's address.</summary>
        Source,
        /// <summary>The URL path.</summary>
        Uri,
    }

    /// <inheritdoc />
    public Backend Choose(ReadOnlySpan<Backend> candidates, BalanceKey key)
    {
        var keyHash = by == By.Source ? Fnv(ClientBytes(key, stackalloc byte[16])) : Fnv(MemoryMarshal.AsBytes(key.Path.AsSpan()));
        var best = candidates[0];
        var bestScore = double.MinValue;
        foreach (var backend in candidates)
        {
            var score = Score(keyHash, backend);
            if (score > bestScore)
            {
                (best, bestScore) = (backend, score);
            }
        }
        return best;
    }

    /// <summary>Weighted rendezvous score: w / -ln(u), u uniform in (0, 1) from the pair's hash.</summary>
    private static double Score(ulong keyHash, Backend backend)
    {
        var mixed = Mix(keyHash ^ Fnv(MemoryMarshal.AsBytes(backend.Name.AsSpan())));
        var uniform = ((mixed >> 11) + 0.5) / (1UL << 53);
        return backend.EffectiveWeight / -Math.Log(uniform);
    }

    private static ReadOnlySpan<byte> ClientBytes(BalanceKey key, Span<byte> buffer) =>
        key.Client is { } client && client.TryWriteBytes(buffer, out var written) ? buffer[..written] : [];

    /// <summary>FNV-1a, 64 bits: stable across processes and machines, unlike <see cref="HashCode"/>.</summary>
    private static ulong Fnv(ReadOnlySpan<byte> bytes)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }
        return hash;
    }

    /// <summary>SplitMix64's finalizer: spreads FNV's weak low bits over the whole word.</summary>
    private static ulong Mix(ulong x)
    {
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
