using OrleansBus.Silo.Metadata;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Groups;

public sealed partial class ConsumerGroups
{
    /// <summary>
    /// Acknowledges a delivery, whole or up to <paramref name="offset"/> (a message boundary inside it). A partial
    /// ack keeps the lease on the rest. Fenced: with a stale token nothing changes and the caller gets LeaseLost.
    /// </summary>
    public async Task<SettleOutcome> AckAsync(CategoryLog log, string group, string token, long? offset, CancellationToken cancellationToken)
    {
        if (!DeliveryToken.TryParse(token, out var chunkName, out var lease))
            return SettleOutcome.LeaseLost;
        if (offset is null)
        {
            // The whole delivery: its end is a message boundary (the lease was cut there) and the lease knows its message
            // count, so the grain settles it in one call, on any silo, without the bytes.
            var doneAt = log.FindChunk(chunkName) is { } known && ChunkStates.IsFinal(known.State) ? known.FinalSize : (long?)null;
            return await Groups.AckLeaseAsync(group, log.Name, chunkName, lease, doneAt, cancellationToken) ? SettleOutcome.Done : SettleOutcome.LeaseLost;
        }
        var end = offset.Value;
        var row = await Groups.GetAsync(group, log.Name, chunkName, cancellationToken);
        if (row is null || row.LeaseToken != lease)
            return SettleOutcome.LeaseLost;
        var chunk = log.FindChunk(chunkName);
        if (chunk is null)
        {
            await reads.RefreshAsync(log, TimeSpan.Zero, cancellationToken); // another silo's chunk, new here
            chunk = log.FindChunk(chunkName);
        }
        if (chunk is { IsForeign: true } && end > chunk.Size)
            await reads.CatchUpAsync(chunk, log, end, cancellationToken); // a partial ack is checked against the bytes
        if (chunk is null || (chunk.IsForeign && end > chunk.Size))
        {
            // The chunk lives on another silo (the client failed over after its poll) and its bytes cannot be had here: an
            // offset at the lease's end needs none, anything else would have to be checked against the data.
            if (end != row.LeaseEnd)
                return SettleOutcome.ChunkNotLocal;
            return await Groups.AckAsync(group, log.Name, chunkName, lease, row.LeaseEnd, row.LeaseMessages, release: true, cancellationToken)
                ? SettleOutcome.Done
                : SettleOutcome.LeaseLost;
        }
        if (end <= row.AckedOffset || end > row.LeaseEnd || !EndsMessage(chunk, end))
            return SettleOutcome.BadOffset;
        var messages = end == row.LeaseEnd ? row.LeaseMessages : CountMessages(chunk, row.AckedOffset, end);
        if (!await Groups.AckAsync(group, log.Name, chunkName, lease, end, messages, release: end == row.LeaseEnd, cancellationToken))
            return SettleOutcome.LeaseLost;
        if (ChunkStates.IsFinal(chunk.State) && end >= chunk.FinalSize)
            await Groups.MarkDoneAsync(group, log.Name, chunkName, chunk.FinalSize, cancellationToken);
        return SettleOutcome.Done;
    }

    /// <summary>Releases a delivery now or after <paramref name="delay"/>; its next lease counts one more delivery.</summary>
    public async Task<SettleOutcome> NackAsync(CategoryLog log, string group, string token, TimeSpan delay, string? reason, CancellationToken cancellationToken)
    {
        if (!DeliveryToken.TryParse(token, out var chunkName, out var lease))
            return SettleOutcome.LeaseLost;
        var availableAt = (time.GetUtcNow() + delay).ToUnixTimeMilliseconds();
        if (!await Groups.NackAsync(group, log.Name, chunkName, lease, availableAt, reason, cancellationToken))
            return SettleOutcome.LeaseLost;
        log.SignalDataArrived(); // a waiting poll on this silo can take the range now
        return SettleOutcome.Done;
    }

    /// <summary>Lag per chunk and in total: bytes and messages behind, and the age of the oldest unacknowledged message.</summary>
    /// <param name="catchUp">Pull other silos' active chunks to their ends first (exact, costs their bytes); false counts
    /// what this silo knows of them (the periodic lag metrics, which must not copy every open chunk every few seconds).</param>
    public async Task<GroupStatus?> StatusAsync(CategoryLog log, string group, bool catchUp, CancellationToken cancellationToken)
    {
        if (!await Groups.ExistsAsync(group, log.Name, cancellationToken))
            return null;
        await reads.RefreshAsync(log, TimeSpan.FromMilliseconds(250), cancellationToken); // other silos' new chunks
        var (rows, skipped) = await PrepareAsync(group, log, SeekKinds.Earliest, cancellationToken); // rows for every chunk known here, seeks applied
        // Active chunks of other silos: their owners' current sizes (the pulled bytes are what a poll here reads next).
        if (catchUp)
        {
            await reads.CatchUpAllAsync(log, rows.Select(r => log.FindChunk(r.Chunk)).OfType<Chunk>().Where(c => c.State == ChunkStates.Active),
                static _ => long.MaxValue, cancellationToken);
        }
        var lags = new List<ChunkLag>(rows.Count);
        long lagBytes = 0, lagMessages = 0;
        long? oldestMs = null;
        foreach (var row in rows)
        {
            var chunk = log.FindChunk(row.Chunk);
            if (chunk is null)
                continue;
            var size = chunk.KnownSize; // another silo's sealed chunk counts whole, however much was copied here
            var bytes = Math.Max(0, size - row.AckedOffset);
            var behind = Math.Max(0, chunk.KnownMessages - row.AckedMessages);
            lagBytes += bytes;
            lagMessages += behind;
            if (bytes > 0 && oldestMs is null && ChunkIndexReader.BatchAt(chunk, row.AckedOffset) is { } batch)
                oldestMs = Math.Max(0, NowMs - batch.AppendTimeMs);
            var leased = row.LeaseToken is not null && row.LeaseExpiresAtMs > NowMs;
            lags.Add(new ChunkLag(row.Chunk, row.AckedOffset, size, bytes, behind,
                leased ? row.LeaseConsumer : null, leased ? DateTimeOffset.FromUnixTimeMilliseconds(row.LeaseExpiresAtMs) : null, row.DeliveryCount));
        }
        return new GroupStatus(group, log.Name, lagBytes, lagMessages, oldestMs, lags, skipped);
    }

    /// <summary>
    /// Moves the group to the earliest data, the latest, or the first batch appended at or after a time, clearing leases.
    /// Recorded as a seek generation on the group and applied here at once to every chunk this silo knows; other silos
    /// apply it when they next serve the group, each row once per generation (chunks they know that this one did not).
    /// </summary>
    public async Task SeekAsync(CategoryLog log, string group, SeekTarget target, DateTimeOffset? at, CancellationToken cancellationToken)
    {
        await Groups.EnsureGroupAsync(group, log.Name, store.SiloId, SeekKinds.Earliest, NowMs, cancellationToken);
        var (kind, timeMs) = target switch
        {
            SeekTarget.Earliest => (SeekKinds.Earliest, NowMs),
            SeekTarget.Latest => (SeekKinds.Latest, NowMs),
            _ => (SeekKinds.Time, at!.Value.ToUnixTimeMilliseconds()),
        };
        // Every chunk of the catalog, not just those this silo has seen: the seek is marked applied here, so a chunk
        // learned of later would keep the group's old position (and this answer would leave it out of the lag).
        await reads.RefreshAsync(log, TimeSpan.Zero, cancellationToken);
        var generation = await Groups.SeekAsync(group, log.Name, kind, timeMs, cancellationToken);
        await ApplySeekAsync(group, log, generation, kind, timeMs, exactLatest: true, cancellationToken);
        log.SignalDataArrived();
    }

    private static bool EndsMessage(Chunk chunk, long end)
    {
        Span<byte> last = stackalloc byte[1];
        return end <= chunk.Size && RandomAccess.Read(chunk.ReadHandle(), last, end - 1) == 1 && last[0] == (byte)'\n';
    }

    private static long CountMessages(Chunk chunk, long from, long to)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(256 * 1024);
        try
        {
            long messages = 0;
            for (var position = from; position < to;)
            {
                var read = RandomAccess.Read(chunk.ReadHandle(), buffer.AsSpan(0, (int)Math.Min(buffer.Length, to - position)), position);
                if (read == 0)
                    break;
                messages += buffer.AsSpan(0, read).Count((byte)'\n');
                position += read;
            }
            return messages;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>Seek kinds as stored on the group row.</summary>
public static class SeekKinds
{
    public const string Earliest = "earliest";
    public const string Latest = "latest";
    public const string Time = "time";
}

/// <summary>Where a seek moves a group.</summary>
public enum SeekTarget
{
    Earliest,
    Latest,
    Time,
}
