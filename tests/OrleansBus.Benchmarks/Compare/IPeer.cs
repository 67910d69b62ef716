namespace OrleansBus.Benchmarks.Compare;

/// <summary>What each acknowledgement promises: written to the page cache, or fsynced to the disk.</summary>
internal enum AckDurability { PageCache, Fsync }

/// <summary>Called once per delivered message (bytes including the trailing '\n') before it is acknowledged.</summary>
internal delegate void MessageSink(ReadOnlySpan<byte> message);

/// <summary>
/// One system under test, started by the compare command and stopped by it (by PID). Clients are blocking and
/// single-user: each worker thread opens its own, so no system pays for a multiplexer the others lack.
/// </summary>
internal interface IPeer : IAsyncDisposable
{
    string Name { get; }
    string Version { get; }

    /// <summary>How this system is configured for <paramref name="durability"/>: printed and written to the report.</summary>
    string Describe(AckDurability durability);

    Task StartAsync(CancellationToken ct);

    /// <summary>Switches what later produce acknowledgements promise (a config change or a restart).</summary>
    Task ConfigureAsync(AckDurability durability, CancellationToken ct);

    /// <summary>Creates an empty stream / category (new name per workload).</summary>
    void CreateStream(string stream);

    /// <summary>Creates a consumer group at the start of the stream, or at its end (only new messages).</summary>
    void CreateGroup(string stream, string group, bool fromStart);

    /// <summary>Deletes a finished workload's stream, so the next one starts with its memory and disk free.</summary>
    void DropStream(string stream);

    IProducerClient OpenProducer(string stream);

    IConsumerClient OpenConsumer(string stream, string group, string consumer);
}

internal interface IProducerClient : IDisposable
{
    /// <summary>
    /// Sends the <paramref name="messageBytes"/>-byte messages held back to back in <paramref name="messages"/> (each
    /// ending in '\n') as one batch, and returns once every one is acknowledged with the configured durability.
    /// </summary>
    void Produce(ReadOnlyMemory<byte> messages, int messageBytes);
}

internal interface IConsumerClient : IDisposable
{
    /// <summary>
    /// Fetches up to <paramref name="maxMessages"/> messages (about <paramref name="maxBytes"/>), waiting up to
    /// <paramref name="waitMs"/> for the first, hands each to <paramref name="sink"/>, acknowledges them all and
    /// returns how many there were (0: none by the wait).
    /// </summary>
    int FetchAndAck(int maxMessages, int maxBytes, int waitMs, MessageSink sink);
}
