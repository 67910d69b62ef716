using Microsoft.Extensions.Logging;
using OrleansBus.Silo.Metadata;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Groups;

/// <summary>What an acknowledgement of a whole chunk came to. Only <see cref="Acknowledged"/> changed (or found) the group's state.</summary>
public enum WholeChunkAck
{
    /// <summary>The group is done with the chunk (now, or already before).</summary>
    Acknowledged,
    /// <summary>The chunk is still active: its size is not final, so it cannot be acknowledged whole.</summary>
    NotComplete,
    /// <summary>The size given is below the chunk's size: the caller has not read all of it.</summary>
    NotFullyRead,
    /// <summary>The size given is beyond the chunk's size.</summary>
    BeyondSize,
    /// <summary>The chunk is quarantined; nothing of it can be acknowledged as read.</summary>
    Corrupt,
    /// <summary>A consumer of the same group holds a lease on the chunk (through the v1 poll); try again once it is settled.</summary>
    Leased,
}

/// <summary>
/// Whole-chunk acknowledgement for the chukcha-compatible API (<see cref="Api.ChukchaApi"/>). chukcha's ack is
/// not leased: a client reads a complete chunk to its end and then acknowledges it whole, and chukcha deletes it.
/// Here the data stays until retention; the acknowledgement is the group's row for the chunk marked done at the
/// chunk's final size, so listing can hide it and every silo sees the same state (the group's grain).
/// </summary>
public sealed partial class ConsumerGroups
{
    /// <summary>The consumer group that the chukcha API acknowledges for.</summary>
    public const string ChukchaGroup = "chukcha";

    private const string WholeChunkConsumer = "whole-chunk-ack";

    /// <summary>
    /// Marks <paramref name="chunk"/> done for <paramref name="group"/> when it is complete (sealed or archived) and
    /// <paramref name="size"/> is exactly its final size. Idempotent: a chunk already done answers Acknowledged, so a
    /// client that retries after a lost reply moves on. The offset moves under a claim (a lease taken and settled at
    /// once), the same compare-and-set every other offset change uses, so two silos acknowledging the same chunk,
    /// or a v1 consumer holding a lease on it, can never both move it.
    /// </summary>
    public async Task<WholeChunkAck> AckWholeChunkAsync(CategoryLog log, string group, Chunk chunk, long size, CancellationToken cancellationToken)
    {
        var state = chunk.State;
        if (state == ChunkStates.Corrupt)
            return WholeChunkAck.Corrupt;
        if (state == ChunkStates.Active)
            return WholeChunkAck.NotComplete;
        var chunkSize = chunk.FinalSize; // final: the chunk is sealed (another silo's copy here may be shorter)
        if (size < chunkSize)
            return WholeChunkAck.NotFullyRead;
        if (size > chunkSize)
            return WholeChunkAck.BeyondSize;

        await PrepareAsync(group, log, SeekKinds.Earliest, cancellationToken); // the group and a row for every chunk of this silo
        var messages = chunk.IsForeign ? chunk.FinalMessages : chunk.Messages;
        for (var attempt = 0; ; attempt++)
        {
            // No row right after materialising it: the group finished the chunk and forgot it (it is below the watermark).
            var row = await Groups.GetAsync(group, log.Name, chunk.Name, cancellationToken);
            if (row is null || row.Done)
                return WholeChunkAck.Acknowledged;
            if (row.AckedOffset >= chunkSize)
                break;
            var claim = DeliveryToken.NewLease();
            var expires = (time.GetUtcNow() + options.Value.DefaultLease).ToUnixTimeMilliseconds();
            if (await Groups.TryLeaseAsync(group, log.Name, chunk.Name, row.AckedOffset, claim, WholeChunkConsumer, chunkSize,
                    Math.Max(0, messages - row.AckedMessages), expires, NowMs, cancellationToken) is not null
                && await Groups.AckLeaseAsync(group, log.Name, chunk.Name, claim, doneAtSize: chunkSize, cancellationToken))
            {
                break;
            }
            // Another whole-chunk acknowledgement holds its claim for the moment it takes to settle: wait for its outcome.
            // A consumer's lease (through the v1 poll) is another matter: the caller tries again once it is settled.
            var now = await Groups.GetAsync(group, log.Name, chunk.Name, cancellationToken);
            if (now is null || now.Done || now.AckedOffset >= chunkSize)
                break;
            if (now.LeaseConsumer != WholeChunkConsumer || attempt >= 50)
                return WholeChunkAck.Leased;
            await Task.Delay(TimeSpan.FromMilliseconds(10), time, cancellationToken);
        }
        await Groups.MarkDoneAsync(group, log.Name, chunk.Name, chunkSize, cancellationToken);
        ChukchaLog.ChunkAcknowledged(logger, group, log.Name, chunk.Name, chunkSize);
        return WholeChunkAck.Acknowledged;
    }

    /// <summary>
    /// The chunks of <paramref name="log"/> that <paramref name="group"/> is not done with, in the log's order: every
    /// chunk when the group has never acknowledged anything in the category (nothing is created by asking).
    /// </summary>
    public async Task<IReadOnlyList<Chunk>> ChunksNotDoneAsync(CategoryLog log, string group, CancellationToken cancellationToken)
    {
        // Taken before materialising, so every chunk in it has a row once PrepareAsync returns (its own snapshot is
        // the same or longer): a chunk without a row would otherwise look done and vanish from the list.
        var chunks = log.Chunks;
        if (!await Groups.ExistsAsync(group, log.Name, cancellationToken))
            return chunks;
        var open = (await PrepareAsync(group, log, SeekKinds.Earliest, cancellationToken)).Rows;
        var names = new HashSet<string>(open.Count, StringComparer.Ordinal);
        foreach (var row in open)
            names.Add(row.Chunk);
        var result = new List<Chunk>(chunks.Count);
        foreach (var chunk in chunks)
        {
            if (names.Contains(chunk.Name))
                result.Add(chunk);
        }
        return result;
    }

    private static partial class ChukchaLog
    {
        [LoggerMessage(2101, LogLevel.Debug, "Group {Group} acknowledged {Category}/{Chunk} whole at its size {Size}")]
        public static partial void ChunkAcknowledged(ILogger logger, string group, string category, string chunk, long size);
    }
}
