using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Groups;

/// <summary>What a poll asks for.</summary>
public sealed record PollRequest(
    string Category, string Group, string Consumer, int MaxBytes, int MaxMessages, TimeSpan Wait, TimeSpan Lease, bool StartLatest);

/// <summary>A leased range of one chunk, with its bytes (whole messages). Dispose returns the buffer.</summary>
public sealed class Delivery(string token, string chunk, long offset, DateTimeOffset leaseExpiresAt, int deliveryCount, int messages, ChunkSlice data) : IDisposable
{
    public string Token { get; } = token;
    public string Chunk { get; } = chunk;
    public long Offset { get; } = offset;
    public long NextOffset => Data.NextOffset;
    public DateTimeOffset LeaseExpiresAt { get; } = leaseExpiresAt;
    public int DeliveryCount { get; } = deliveryCount;
    public int Messages { get; } = messages;
    public ChunkSlice Data { get; } = data;

    public void Dispose() => Data.Dispose();
}

/// <summary>
/// The delivery token clients echo in ack and nack: "&lt;chunk&gt;~&lt;lease token&gt;". The lease token is
/// random per lease and is the fence: once another consumer leases the range, the old token matches no row.
/// </summary>
public static class DeliveryToken
{
    public static string Create(string chunk, string lease) => chunk + "~" + lease;

    public static bool TryParse(string? token, out string chunk, out string lease)
    {
        chunk = lease = "";
        var at = token?.LastIndexOf('~') ?? -1;
        if (at <= 0 || at == token!.Length - 1)
            return false;
        chunk = token[..at];
        lease = token[(at + 1)..];
        return ChunkName.TryParse(chunk, out _, out _);
    }

    public static string NewLease() => Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12)).ToLowerInvariant();
}

/// <summary>Outcome of ack, nack and seek.</summary>
public enum SettleOutcome
{
    Done,
    LeaseLost,
    GroupNotFound,
    CategoryNotFound,
    BadOffset,
    ChunkNotLocal,
}

/// <summary>Lag of one chunk for a group.</summary>
public sealed record ChunkLag(string Chunk, long AckedOffset, long Size, long LagBytes, long LagMessages, string? LeaseConsumer, DateTimeOffset? LeaseExpiresAt, int DeliveryCount);

/// <summary>A group's position and lag in a category.</summary>
public sealed record GroupStatus(string Group, string Category, long LagBytes, long LagMessages, long? OldestUnackedAgeMs, IReadOnlyList<ChunkLag> Chunks, long SkippedByRetention = 0);
