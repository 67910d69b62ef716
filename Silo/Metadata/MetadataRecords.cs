namespace OrleansBus.Silo.Metadata;

/// <summary>A category's stored settings; <see cref="DeletingAtMs"/> is not 0 while the category is being deleted (the table's mark).</summary>
public sealed record CategoryRecord(
    string Name,
    long MaxChunkBytes,
    long MaxChunkAgeMs,
    string DefaultDurability,
    DateTimeOffset CreatedAt,
    long RetentionMs = 0,
    long RetentionBytes = 0,
    long DeletingAtMs = 0);

/// <summary>Lifecycle states of a chunk as the catalog records them.</summary>
public static class ChunkStates
{
    public const string Active = "active";
    public const string Sealed = "sealed";
    public const string Archived = "archived";
    public const string Expired = "expired";
    /// <summary>Sealed or archived: size final, no more appends.</summary>
    public static bool IsFinal(string state) => state is Sealed or Archived;

    /// <summary>A checksum mismatch before the tail was found; the chunk is quarantined, never truncated.</summary>
    public const string Corrupt = "corrupt";
}

/// <summary>One row of the chunk catalog. Size and Messages are final once the state is sealed.</summary>
public sealed record ChunkRecord(
    string Category,
    string Name,
    string Owner,
    long Seq,
    string State,
    long Size,
    long Messages,
    DateTimeOffset CreatedAt,
    DateTimeOffset? SealedAt,
    string? SealedBy = null);
