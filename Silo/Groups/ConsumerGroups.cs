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
/// All state is in the group's grain (<see cref="IGroupStore"/>), so any silo can serve any group; the bytes are read
/// here, where they are. Thread safe.
/// </summary>
public sealed partial class ConsumerGroups(LogStore store, IGroupStore groups, Cluster.ClusterReads reads, IOptions<BusOptions> options, TimeProvider time, ILogger<ConsumerGroups> logger)
{
    /// <summary>How long a poll's catalog view may be: the category grain pushes changes, so this only bounds a missed push.</summary>
    private static readonly TimeSpan CatalogMaxAge = TimeSpan.FromMilliseconds(200);

    // How many entries of each category's (append-only) chunk list this process has given rows to, per group.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Group, string Category), int> _materialized = new();

    private IGroupStore Groups => groups;

    private long NowMs => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Leases and returns the next messages, waiting up to <see cref="PollRequest.Wait"/>; null when none came.</summary>
    public async Task<Delivery?> PollAsync(PollRequest request, CategoryLog log, CancellationToken cancellationToken)
    {
        var deadline = NowMs + (long)request.Wait.TotalMilliseconds;
        while (true)
        {
            var dataArrived = log.DataArrived; // taken before looking, so a publish in between still wakes us
            await reads.RefreshAsync(log, CatalogMaxAge, cancellationToken); // chunks other silos opened since
            var open = (await PrepareAsync(request.Group, log, request.StartLatest ? SeekKinds.Latest : SeekKinds.Earliest, cancellationToken)).Rows;
            var (delivery, wakeAtMs) = await TryLeaseNextAsync(request, log, open, cancellationToken);
            if (delivery is not null)
                return delivery;
            var now = NowMs;
            if (now >= deadline)
                return null;
            // Local writes and replica pushes signal DataArrived; other silos' new batches are watched for at their owners.
            reads.WatchForeignGrowth(log, TimeSpan.FromMilliseconds(deadline - now));
            var sleepMs = Math.Min(deadline, wakeAtMs) - now;
            await Task.WhenAny(dataArrived, Task.Delay(TimeSpan.FromMilliseconds(Math.Max(1, sleepMs)), time, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>
    /// Brings the group up to date with every chunk this silo knows (its own and other silos'): applies a seek (or the
    /// group's start) that this silo has not applied yet, else hands the grain positions for chunks this silo learned of
    /// since it last looked (after a start: every chunk; the grain keeps the positions it has and ignores chunks it
    /// finished). Rows are never reset twice for one seek (each remembers the generation it was reset to). Returns the
    /// group's open rows: one grain call when nothing had to change, which is nearly always.
    /// </summary>
    private async Task<Prepared> PrepareAsync(string group, CategoryLog log, string startKind, CancellationToken cancellationToken)
    {
        var (state, rows) = await PrepareRowsAsync(group, log, startKind, cancellationToken);
        var (kept, skipped) = await SkipExpiredAsync(group, log, rows, cancellationToken);
        return new Prepared(kept, state.SkippedByRetention + skipped);
    }

    /// <summary>The group's open rows, and the messages retention made it skip so far (this call's skips included).</summary>
    private sealed record Prepared(IReadOnlyList<GroupChunkRow> Rows, long SkippedByRetention);

    /// <summary>
    /// Rows of chunks retention expired are finished where the group stands (the unacknowledged messages counted as skipped
    /// by retention, as Kafka resets an out-of-range offset to the earliest one); the rest are returned, with the count.
    /// </summary>
    private async Task<(IReadOnlyList<GroupChunkRow> Kept, long Skipped)> SkipExpiredAsync(string group, CategoryLog log, IReadOnlyList<GroupChunkRow> rows, CancellationToken cancellationToken)
    {
        List<GroupChunkRow>? kept = null;
        long total = 0;
        for (var i = 0; i < rows.Count; i++)
        {
            if (log.FindChunk(rows[i].Chunk) is not { State: ChunkStates.Expired } chunk)
            {
                kept?.Add(rows[i]);
                continue;
            }
            kept ??= [.. rows.Take(i)];
            var skipped = await Groups.SkipExpiredAsync(group, log.Name, chunk.Name, chunk.KnownMessages, cancellationToken);
            if (skipped > 0)
                Log.SkippedByRetention(logger, group, log.Name, chunk.Name, skipped);
            total += skipped;
        }
        return (kept ?? rows, total);
    }

    private async Task<(GroupState State, IReadOnlyList<GroupChunkRow> Rows)> PrepareRowsAsync(string group, CategoryLog log, string startKind, CancellationToken cancellationToken)
    {
        var (state, open) = await Groups.ViewAsync(group, log.Name, store.SiloId, startKind, NowMs, cancellationToken);
        var chunks = log.Chunks;
        var key = (group, log.Name);
        if (state.AppliedSeek < state.SeekGeneration)
        {
            // The silo that creates the group at "latest" knows the exact current sizes; others go by time.
            await ApplySeekAsync(group, log, state.SeekGeneration, state.SeekKind, state.SeekTimeMs, exactLatest: state.Created, cancellationToken);
            _materialized[key] = chunks.Count;
            return (state, await Groups.ListOpenAsync(group, log.Name, cancellationToken));
        }
        var done = _materialized.GetValueOrDefault(key, 0);
        if (chunks.Count <= done)
            return (state, open);
        var rows = new List<GroupPosition>(chunks.Count - done);
        for (var i = done; i < chunks.Count; i++)
            rows.Add(SeekPosition(chunks[i], state.SeekKind, state.SeekTimeMs, exactLatest: false) with { AppliedSeek = state.SeekGeneration });
        await Groups.MaterializeAsync(group, log.Name, rows, cancellationToken);
        _materialized.AddOrUpdate(key, chunks.Count, (_, old) => Math.Max(old, chunks.Count));
        return (state, await Groups.ListOpenAsync(group, log.Name, cancellationToken));
    }

    private async Task<bool> ApplySeekAsync(string group, CategoryLog log, int generation, string kind, long timeMs, bool exactLatest, CancellationToken cancellationToken)
    {
        var chunks = log.Chunks;
        if (kind != SeekKinds.Earliest)
        {
            // Latest or a time inside another silo's chunk needs its current size and index here: pull those first.
            var needed = new List<Chunk>();
            foreach (var chunk in chunks)
            {
                if (chunk.IsForeign && !chunk.IsComplete && !(chunk.SealedAt?.ToUnixTimeMilliseconds() <= timeMs) && chunk.CreatedAt.ToUnixTimeMilliseconds() <= timeMs)
                    needed.Add(chunk);
            }
            await reads.CatchUpAllAsync(log, needed, static _ => long.MaxValue, cancellationToken);
        }
        var rows = new List<GroupPosition>(chunks.Count);
        foreach (var chunk in chunks)
            rows.Add(SeekPosition(chunk, kind, timeMs, exactLatest));
        return await Groups.ResetAsync(group, log.Name, store.SiloId, rows, generation, cancellationToken);
    }

    /// <summary>
    /// Where a seek puts a chunk: earliest at 0; latest at the current end when this silo made the seek, otherwise
    /// (and for a time) at the first batch appended after the seek time — a chunk created after it starts at 0.
    /// </summary>
    private static GroupPosition SeekPosition(Chunk chunk, string kind, long timeMs, bool exactLatest)
    {
        var sealedBefore = ChunkStates.IsFinal(chunk.State) && chunk.SealedAt?.ToUnixTimeMilliseconds() <= timeMs;
        var (offset, messages) = kind switch
        {
            SeekKinds.Earliest => (0L, 0L),
            // A chunk sealed before the seek time ends before it: no need to read its index (another silo's may not be here).
            _ when sealedBefore => (chunk.FinalSize, chunk.FinalMessages),
            SeekKinds.Latest when exactLatest => (chunk.Size, chunk.Messages),
            _ when chunk.CreatedAt.ToUnixTimeMilliseconds() > timeMs => (0L, 0L),
            SeekKinds.Latest => ChunkIndexReader.FirstAtOrAfter(chunk, timeMs + 1),
            _ => ChunkIndexReader.FirstAtOrAfter(chunk, timeMs),
        };
        return new GroupPosition(chunk.Name, Order(chunk), offset, messages, ChunkStates.IsFinal(chunk.State) && offset >= chunk.FinalSize);
    }

    /// <summary>One pass over the group's open chunks; returns a delivery, or the time something next frees up.</summary>
    private async Task<(Delivery? Delivery, long WakeAtMs)> TryLeaseNextAsync(PollRequest request, CategoryLog log, IReadOnlyList<GroupChunkRow> rows, CancellationToken cancellationToken)
    {
        if (SplitByHolder(log, rows) is { } split)
        {
            var (delivery, wakeAt) = await TryLeaseFromAsync(request, log, split.Held, pull: false, cancellationToken);
            if (delivery is not null)
                return (delivery, wakeAt);
            var (other, otherWakeAt) = await TryLeaseFromAsync(request, log, split.Elsewhere, pull: true, cancellationToken);
            return (other, Math.Min(wakeAt, otherWakeAt));
        }
        return await TryLeaseFromAsync(request, log, rows, pull: true, cancellationToken);
    }

    /// <summary>
    /// The rows whose next bytes this silo already holds (its own chunks, its replicas, copies pulled before) and the
    /// rest, each oldest first; null when one side is empty, or on every fourth poll, which keeps plain oldest-first order
    /// so a chunk held elsewhere is never starved by local ones that keep growing. Polls spread over silos (the gateway's
    /// least-outstanding pick) then lease chunks where they are, instead of every silo pulling a whole copy of every
    /// other silo's open chunks on every poll.
    /// </summary>
    private (List<GroupChunkRow> Held, List<GroupChunkRow> Elsewhere)? SplitByHolder(CategoryLog log, IReadOnlyList<GroupChunkRow> rows)
    {
        if (rows.Count < 2 || Interlocked.Increment(ref _polls) % 4 == 0)
            return null;
        var held = new List<GroupChunkRow>(rows.Count);
        var elsewhere = new List<GroupChunkRow>();
        foreach (var row in rows)
        {
            if (log.FindChunk(row.Chunk) is { IsForeign: true } chunk && chunk.Size <= row.AckedOffset)
                elsewhere.Add(row);
            else
                held.Add(row);
        }
        return held.Count == 0 || elsewhere.Count == 0 ? null : (held, elsewhere);
    }

    private int _polls;

    /// <summary>One pass over <paramref name="rows"/> (first pulling what their foreign chunks lack here when <paramref name="pull"/>).</summary>
    private async Task<(Delivery? Delivery, long WakeAtMs)> TryLeaseFromAsync(PollRequest request, CategoryLog log, IReadOnlyList<GroupChunkRow> rows, bool pull, CancellationToken cancellationToken)
    {
        var wakeAt = long.MaxValue;
        if (pull)
            await CatchUpForeignAsync(log, rows, request.MaxBytes, cancellationToken);
        foreach (var row in rows)
        {
            var chunk = log.FindChunk(row.Chunk);
            if (chunk is null || chunk.State is ChunkStates.Corrupt or ChunkStates.Expired)
                continue; // expired since the rows were read: the next poll skips it for the group
            var now = NowMs;
            if (row.AckedOffset >= chunk.Size)
            {
                if (ChunkStates.IsFinal(chunk.State) && row.AckedOffset >= chunk.FinalSize)
                    await Groups.MarkDoneAsync(request.Group, log.Name, row.Chunk, chunk.FinalSize, cancellationToken);
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

    /// <summary>Pulls what the open rows' foreign chunks lack here (their owners' new batches), all at once.</summary>
    private Task CatchUpForeignAsync(CategoryLog log, IReadOnlyList<GroupChunkRow> rows, int maxBytes, CancellationToken cancellationToken)
    {
        List<Task>? pulls = null;
        foreach (var row in rows)
        {
            // Enough for one poll past the acknowledged offset; the pull carries on in the background.
            if (log.FindChunk(row.Chunk) is { IsForeign: true, IsComplete: false } chunk)
                (pulls ??= []).Add(reads.CatchUpAsync(chunk, log, row.AckedOffset + maxBytes, cancellationToken));
        }
        return pulls is null ? Task.CompletedTask : Task.WhenAll(pulls);
    }

    private async Task<Delivery?> TryLeaseAsync(PollRequest request, CategoryLog log, Chunk chunk, GroupChunkRow row, CancellationToken cancellationToken)
    {
        try
        {
            await chunk.EnsureReadableAsync(cancellationToken); // an archived chunk whose local copy was dropped
        }
        catch (Exception e) when (e is Archive.ArchiveUnavailableException or Archive.ArchiveNotFoundException)
        {
            // The archive is down (or lost the chunk, which the fetch logged and counted): serve other chunks now, this
            // one on a later poll.
            return null;
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
        var tags = new System.Diagnostics.TagList { { "category", log.Name }, { "group", request.Group } };
        Telemetry.BusTelemetry.Deliveries.Add(1, tags);
        if (count.Value > 1)
            Telemetry.BusTelemetry.Redeliveries.Add(1, tags);
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
