using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansBus.Silo.Hosting;
using OrleansBus.Silo.Metadata;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Groups;

/// <summary>
/// Consumer groups: poll leases the next range of one chunk to one consumer (one lease per group and chunk,
/// so order within a chunk holds; parallelism comes from many chunks); ack advances the offset while the
/// lease is held; nack or an expired lease makes the range available again with its delivery count + 1;
/// after MaxDeliveries the range's first message goes to "&lt;c&gt;.dead-letter" and the group moves past it.
/// All state is in the metadata store, so any silo can serve any group. Thread safe.
/// </summary>
public sealed partial class ConsumerGroups(LogStore store, IMetadataStore metadata, IOptions<BusOptions> options, TimeProvider time, ILogger<ConsumerGroups> logger)
{
    private IGroupStore Groups => metadata.Groups;
    private long NowMs => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Leases and returns the next messages, waiting up to <see cref="PollRequest.Wait"/>; null when none came.</summary>
    public async Task<Delivery?> PollAsync(PollRequest request, CategoryLog log, CancellationToken cancellationToken)
    {
        var materialized = await EnsureGroupAsync(request, log, cancellationToken);
        var deadline = NowMs + (long)request.Wait.TotalMilliseconds;
        while (true)
        {
            var dataArrived = log.DataArrived; // taken before looking, so a publish in between still wakes us
            materialized = await MaterializeNewChunksAsync(request.Group, log, materialized, cancellationToken);
            var (delivery, wakeAtMs) = await TryLeaseNextAsync(request, log, cancellationToken);
            if (delivery is not null)
                return delivery;
            var now = NowMs;
            if (now >= deadline)
                return null;
            var sleepMs = Math.Min(deadline, wakeAtMs) - now;
            await Task.WhenAny(dataArrived, Task.Delay(TimeSpan.FromMilliseconds(Math.Max(1, sleepMs)), time, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private async Task<int> EnsureGroupAsync(PollRequest request, CategoryLog log, CancellationToken cancellationToken)
    {
        var (materialized, created) = await Groups.EnsureGroupAsync(request.Group, log.Name, store.SiloId, NowMs, cancellationToken);
        if (!created || !request.StartLatest)
            return materialized;
        var chunks = log.Chunks;
        var rows = new List<GroupPosition>(chunks.Count);
        for (var i = 0; i < chunks.Count; i++)
            rows.Add(new GroupPosition(chunks[i].Name, Order(chunks[i]), chunks[i].Size, chunks[i].Messages, chunks[i].State == ChunkStates.Sealed));
        await Groups.MaterializeAsync(request.Group, log.Name, store.SiloId, rows, rows.Count, cancellationToken);
        return rows.Count;
    }

    /// <summary>Gives the group a row (at offset 0) for each chunk created since it last looked; only new chunks are touched.</summary>
    private async Task<int> MaterializeNewChunksAsync(string group, CategoryLog log, int materialized, CancellationToken cancellationToken)
    {
        var chunks = log.Chunks;
        if (chunks.Count <= materialized)
            return materialized;
        var rows = new List<GroupPosition>(chunks.Count - materialized);
        for (var i = materialized; i < chunks.Count; i++)
            rows.Add(new GroupPosition(chunks[i].Name, Order(chunks[i]), 0, 0, Done: false));
        await Groups.MaterializeAsync(group, log.Name, store.SiloId, rows, chunks.Count, cancellationToken);
        return chunks.Count;
    }

    /// <summary>One pass over the group's open chunks; returns a delivery, or the time something next frees up.</summary>
    private async Task<(Delivery? Delivery, long WakeAtMs)> TryLeaseNextAsync(PollRequest request, CategoryLog log, CancellationToken cancellationToken)
    {
        var wakeAt = long.MaxValue;
        var rows = await Groups.ListOpenAsync(request.Group, log.Name, cancellationToken);
        foreach (var row in rows)
        {
            var chunk = log.FindChunk(row.Chunk);
            if (chunk is null || chunk.State == ChunkStates.Corrupt)
                continue;
            var now = NowMs;
            if (row.AckedOffset >= chunk.Size)
            {
                if (chunk.State == ChunkStates.Sealed)
                    await Groups.MarkDoneAsync(request.Group, log.Name, row.Chunk, chunk.Size, cancellationToken);
                continue;
            }
            if (row.LeaseToken is not null && row.LeaseExpiresAtMs > now)
            {
                wakeAt = Math.Min(wakeAt, row.LeaseExpiresAtMs);
                continue;
            }
            if (row.AvailableAtMs > now)
            {
                wakeAt = Math.Min(wakeAt, row.AvailableAtMs);
                continue;
            }
            var current = row;
            if (current.DeliveryOffset == current.AckedOffset && current.DeliveryCount >= options.Value.MaxDeliveries)
            {
                var moved = await DeadLetterAsync(request.Group, log, chunk, current, cancellationToken);
                if (moved is null)
                    continue;
                current = moved;
                if (current.AckedOffset >= chunk.Size)
                    continue;
            }
            var delivery = await TryLeaseAsync(request, log, chunk, current, cancellationToken);
            if (delivery is not null)
                return (delivery, wakeAt);
        }
        return (null, wakeAt);
    }

    private async Task<Delivery?> TryLeaseAsync(PollRequest request, CategoryLog log, Chunk chunk, GroupChunkRow row, CancellationToken cancellationToken)
    {
        var slice = ChunkReader.Read(chunk, row.AckedOffset, request.MaxBytes);
        var messages = CutToMessages(slice, request.MaxMessages);
        var lease = DeliveryToken.NewLease();
        var expires = time.GetUtcNow() + request.Lease;
        var count = await Groups.TryLeaseAsync(request.Group, log.Name, chunk.Name, row.AckedOffset, lease, request.Consumer,
            slice.NextOffset, expires.ToUnixTimeMilliseconds(), NowMs, cancellationToken);
        if (count is null)
        {
            slice.Dispose(); // another consumer (or silo) won this range
            return null;
        }
        Log.Leased(logger, request.Group, log.Name, chunk.Name, row.AckedOffset, slice.NextOffset, request.Consumer, count.Value);
        return new Delivery(DeliveryToken.Create(chunk.Name, lease), chunk.Name, row.AckedOffset,
            DateTimeOffset.FromUnixTimeMilliseconds(expires.ToUnixTimeMilliseconds()), count.Value, messages, slice);
    }

    /// <summary>A group's chunk order, the same on every silo: creation time.</summary>
    private static long Order(Chunk chunk) => chunk.CreatedAt.ToUnixTimeMilliseconds();

    /// <summary>Keeps at most <paramref name="maxMessages"/> whole messages; returns how many remain.</summary>
    private static int CutToMessages(ChunkSlice slice, int maxMessages)
    {
        var span = slice.Memory.Span;
        var messages = 0;
        var position = 0;
        while (position < span.Length)
        {
            var newline = span[position..].IndexOf((byte)'\n');
            if (newline < 0)
                break;
            position += newline + 1;
            messages++;
            if (messages == maxMessages)
                break;
        }
        if (position < span.Length)
            slice.Cut(position);
        return messages;
    }
}
