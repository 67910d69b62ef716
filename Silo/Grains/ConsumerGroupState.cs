namespace OrleansBus.Silo.Grains;

/// <summary>
/// Persisted state of a <see cref="ConsumerGroupGrain"/>. Small however long the history: chunks the group has finished
/// are forgotten once they fall below the watermark, so only the working set is kept. No member starts at anything but
/// its type's default: the Orleans serializer does not write default values, so a member initialised to -1 and set to 0
/// would come back as -1 (absent values are null here instead).
/// </summary>
[GenerateSerializer, Alias("orleansbus.ConsumerGroupState")]
public sealed class ConsumerGroupState
{
    [Id(0)]
    public int Version { get; set; }

    /// <summary>False until the group is created (by its first poll, or a seek).</summary>
    [Id(1)]
    public bool Exists { get; set; }

    [Id(2)]
    public long CreatedAtMs { get; set; }

    /// <summary>0 is the group's start; every seek adds one. Chunks first seen later are positioned by the last seek.</summary>
    [Id(3)]
    public int SeekGeneration { get; set; }

    [Id(4)]
    public string? SeekKind { get; set; }

    [Id(5)]
    public long SeekTimeMs { get; set; }

    /// <summary>The last seek generation each silo applied to the chunks it knew.</summary>
    [Id(6)]
    public Dictionary<string, int> AppliedSeek { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Every chunk ordered at or below (<see cref="WatermarkPosition"/>, <see cref="WatermarkChunk"/>) is done; null: none.</summary>
    [Id(7)]
    public long? WatermarkPosition { get; set; }

    [Id(8)]
    public string? WatermarkChunk { get; set; }

    /// <summary>The working set: chunks above the watermark, done or not, by name.</summary>
    [Id(9)]
    public Dictionary<string, ChunkProgress> Chunks { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Messages the group never acknowledged before retention expired their chunks (Kafka's reset to the earliest offset).</summary>
    [Id(10)]
    public long SkippedByRetention { get; set; }
}

/// <summary>The group's progress in one chunk.</summary>
[GenerateSerializer, Alias("orleansbus.ChunkProgress")]
public sealed class ChunkProgress
{
    /// <summary>The chunk's creation time (Unix ms): the group's order of chunks, the same on every silo.</summary>
    [Id(0)]
    public long Position { get; set; }

    [Id(1)]
    public long AckedOffset { get; set; }

    [Id(2)]
    public long AckedMessages { get; set; }

    /// <summary>Sealed and acknowledged to its final size.</summary>
    [Id(3)]
    public bool Done { get; set; }

    /// <summary>Where the range <see cref="DeliveryCount"/> counts starts (the acknowledged offset when it was last leased).</summary>
    [Id(4)]
    public long DeliveryOffset { get; set; }

    [Id(5)]
    public int DeliveryCount { get; set; }

    /// <summary>A nack with a delay: the range is not leased again before this (Unix ms).</summary>
    [Id(6)]
    public long AvailableAtMs { get; set; }

    [Id(7)]
    public string? LastReason { get; set; }

    /// <summary>The seek generation this row was last positioned by (null: none).</summary>
    [Id(8)]
    public int? AppliedSeek { get; set; }
}
