using System.Text;

namespace OrleansBus.Gateway.Routing;

/// <summary>
/// Chooses the silo for one forward attempt. Keyed produces use rendezvous (highest-random-weight) hashing over
/// the live silo ids: each (key, silo) pair gets a fixed weight and the key goes to the heaviest live silo, so a
/// silo joining or leaving moves only the keys it wins or held, and the fallback after a failed attempt is the
/// next-heaviest, the same silo the key would move to if the first one died. Everything else goes to the silo
/// with the fewest outstanding requests. Thread-safe; allocation-free apart from the key's UTF-8 bytes.
/// </summary>
public sealed class SiloPicker
{
    private int _roundRobin;

    /// <summary>The live silo with the fewest outstanding requests, skipping <paramref name="tried"/>; null when none is left.</summary>
    public SiloEntry? PickLeastOutstanding(IReadOnlyList<SiloEntry> live, IReadOnlyList<SiloEntry> tried)
    {
        var count = live.Count;
        if (count == 0)
            return null;
        // Start the scan at a rotating position: concurrent requests that all see equal counts (typically all 0)
        // then fan out instead of piling onto the first silo in the list.
        var start = (int)((uint)Interlocked.Increment(ref _roundRobin) % (uint)count);
        SiloEntry? best = null;
        var bestOutstanding = int.MaxValue;
        for (var i = 0; i < count; i++)
        {
            var candidate = live[(start + i) % count];
            if (Contains(tried, candidate))
                continue;
            var outstanding = candidate.Outstanding;
            if (outstanding < bestOutstanding)
            {
                best = candidate;
                bestOutstanding = outstanding;
            }
        }
        return best;
    }

    /// <summary>The live silo with the highest weight for <paramref name="key"/>, skipping <paramref name="tried"/>; null when none is left.</summary>
    public static SiloEntry? PickForKey(string key, IReadOnlyList<SiloEntry> live, IReadOnlyList<SiloEntry> tried)
    {
        var keyHash = Hash(key, Offset);
        SiloEntry? best = null;
        var bestWeight = 0UL;
        foreach (var candidate in live)
        {
            if (Contains(tried, candidate))
                continue;
            var weight = Weight(keyHash, candidate.Id);
            // Ties (astronomically rare) break by id so every gateway agrees.
            if (best is null || weight > bestWeight || (weight == bestWeight && string.CompareOrdinal(candidate.Id, best.Id) < 0))
            {
                best = candidate;
                bestWeight = weight;
            }
        }
        return best;
    }

    /// <summary>The rendezvous weight of <paramref name="siloId"/> for <paramref name="key"/>. Stable across processes and versions of .NET.</summary>
    public static ulong Weight(string key, string siloId) => Weight(Hash(key, Offset), siloId);

    private static ulong Weight(ulong keyHash, string siloId) => Mix(Hash(siloId, keyHash));

    // FNV-1a over UTF-8 (string.GetHashCode is randomised per process, and every gateway must agree),
    // finished with a 64-bit avalanche mix so similar ids ("silo1", "silo2") get unrelated weights.
    private const ulong Offset = 14695981039346656037UL;
    private const ulong Prime = 1099511628211UL;

    private static ulong Hash(string text, ulong seed)
    {
        var hash = seed;
        Span<byte> buffer = stackalloc byte[256];
        var bytes = Encoding.UTF8.GetMaxByteCount(text.Length) <= buffer.Length ? buffer[..Encoding.UTF8.GetBytes(text, buffer)] : Encoding.UTF8.GetBytes(text);
        foreach (var b in bytes)
        {
            hash ^= b;
            hash *= Prime;
        }
        return hash;
    }

    private static ulong Mix(ulong x)
    {
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdUL;
        x ^= x >> 33;
        x *= 0xc4ceb9fe1a85ec53UL;
        x ^= x >> 33;
        return x;
    }

    private static bool Contains(IReadOnlyList<SiloEntry> tried, SiloEntry candidate)
    {
        for (var i = 0; i < tried.Count; i++)
        {
            if (ReferenceEquals(tried[i], candidate))
                return true;
        }
        return false;
    }
}
