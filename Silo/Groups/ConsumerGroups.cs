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
        var deadline = NowMs + (long)request.Wait.TotalMilliseconds;
        while (true)
        {
            var dataArrived = log.DataArrived; // taken before looking, so a publish in between still wakes us
            await PrepareAsync(request.Group, log, request.StartLatest ? SeekKinds.Latest : SeekKinds.Earliest, cancellationToken);
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

    /// <summary>
    /// Brings the group's rows for this silo's chunks up to date: applies a seek (or the group's start) that this
    /// silo has not applied yet, else adds rows for chunks created since it last looked. Only new chunks are touched.
    /// </summary>
    private async Task<GroupState> PrepareAsync(string group, CategoryLog log, string startKind, CancellationToken cancellationToken)
    {
        var state = await Groups.EnsureGroupAsync(group, log.Name, store.SiloId, startKind, NowMs, cancellationToken);
        var chunks = log.Chunks;
        if (state.AppliedSeek < state.SeekGeneration)
        {
            // The silo that creates the group at "latest" knows the exact current sizes; others go by time.
            await ApplySeekAsync(group, log, state.SeekGeneration, state.SeekKind, state.SeekTimeMs, exactLatest: state.Created, cancellationToken);
            return state with { Materialized = chunks.Count, AppliedSeek = state.SeekGeneration };
        }
        if (chunks.Count <= state.Materialized)
            return state;
        var rows = new List<GroupPosition>(chunks.Count - state.Materialized);
        for (var i = state.Materialized; i < chunks.Count; i++)
            rows.Add(SeekPosition(chunks[i], state.SeekKind, state.SeekTimeMs, exactLatest: false));
        await Groups.MaterializeAsync(group, log.Name, store.SiloId, rows, chunks.Count, cancellationToken);
        return state with { Materialized = chunks.Count };
    }

    private Task<bool> ApplySeekAsync(string group, CategoryLog log, int generation, string kind, long timeMs, bool exactLatest, CancellationToken cancellationToken)
    {
        var chunks = log.Chunks;
        var rows = new List<GroupPosition>(chunks.Count);
        foreach (var chunk in chunks)
            rows.Add(SeekPosition(chunk, kind, timeMs, exactLatest));
        return Groups.ResetAsync(group, log.Name, store.SiloId, rows, generation, cancellationToken);
    }

    /// <summary>
    /// Where a seek puts a chunk: earliest at 0; latest at the current end when this silo made the seek, otherwise
    /// (and for a time) at the first batch appended after the seek time — a chunk created after it starts at 0.
    /// </summary>
    private static GroupPosition SeekPosition(Chunk chunk, string kind, long timeMs, bool exactLatest)
    {
        var (offset, messages) = kind switch
        {
            SeekKinds.Earliest => (0L, 0L),
            SeekKinds.Latest when exactLatest => (chunk.Size, chunk.Messages),
            _ when chunk.CreatedAt.ToUnixTimeMilliseconds() > timeMs => (0L, 0L),
            SeekKinds.Latest => ChunkIndexReader.FirstAtOrAfter(chunk, timeMs + 1),
            _ => ChunkIndexReader.FirstAtOrAfter(chunk, timeMs),
        };
        return new GroupPosition(chunk.Name, Order(chunk), offset, messages, ChunkStates.IsFinal(chunk.State) && offset >= chunk.Size);
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
                if (ChunkStates.IsFinal(chunk.State))
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
        try
        {
            await chunk.EnsureReadableAsync(cancellationToken); // an archived chunk whose local copy was dropped
        }
        catch (Archive.ArchiveUnavailableException)
        {
            return null; // the archive is down: serve other chunks now, this one on a later poll
        }
        var slice = ChunkReader.Read(chunk, row.AckedOffset, request.MaxBytes);
        var messages = CutToMessages(slice, request.MaxMessages);
        var lease = DeliveryToken.NewLease();
        var expires = time.GetUtcNow() + request.Lease;
        var count = await Groups.TryLeaseAsync(request.Group, log.Name, chunk.Name, row.AckedOffset, lease, request.Consumer,
            slice.NextOffset, messages, expires.ToUnixTimeMilliseconds(), NowMs, cancellationToken);
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
        var all = span.Count((byte)'\n'); // vectorised; the slice holds whole messages only
        if (all <= maxMessages)
            return all;
        var position = 0;
        for (var messages = 0; messages < maxMessages; messages++)
            position += span[position..].IndexOf((byte)'\n') + 1;
        slice.Cut(position);
        return maxMessages;
    }
}
