using Orleans.Concurrency;
using Orleans.Storage;
using OrleansBus.Contracts.Grains;
using OrleansBus.Silo.Metadata;

namespace OrleansBus.Silo.Grains;

/// <summary>
/// <see cref="IConsumerGroupGrain"/>. Offsets, delivery counts and seeks are grain state (Orleans.Persistence.AdoNet:
/// PostgreSQL in a cluster, the embedded silo's SQLite file); leases live in memory only, so a new activation starts
/// with none and every outstanding delivery is redelivered (its ack answers lease lost).
/// <para>
/// Reentrant, so calls go on while a state write is in flight; every check-and-change runs without an await in between
/// (one call at a time on the grain's scheduler), so the compare-and-set rules hold. Writes are coalesced: changes made
/// while one write is in flight go out together in the next, and an ack, nack, skip, seek or reset is answered only
/// once the write carrying it succeeded. Leases and delivery counts are written lazily by the same loop (a lost count
/// means a few more deliveries before a dead letter, never a lost message).
/// </para>
/// <para>
/// Fencing: the state's ETag. If two activations of one group ever exist (two clusters on one database, a partition),
/// the one whose write conflicts stops serving at once — its callers are told their lease was lost — and deactivates;
/// the next call reloads what the other one made durable. Any other failed write also deactivates it, so memory never
/// stays ahead of the database.
/// </para>
/// </summary>
[Reentrant]
public sealed partial class ConsumerGroupGrain(
    [PersistentState("group", Hosting.OrleansSetup.GroupStorageName)] IPersistentState<ConsumerGroupState> state,
    LegacyGroupTables legacy, TimeProvider time, ILocalSiloDetails localSilo, ILogger<ConsumerGroupGrain> logger) : Grain, IConsumerGroupGrain
{
    /// <summary>
    /// Finished chunks are forgotten (folded into the watermark) only once they are this much older than this silo's
    /// clock: a chunk registered late with an older creation time (a silo whose clock lags) must not land below it.
    /// </summary>
    internal static readonly TimeSpan ClockSkewAllowance = TimeSpan.FromSeconds(60);

    private readonly Dictionary<string, Lease> _leases = new(StringComparer.Ordinal);
    private TaskCompletionSource _nextWrite = NewWrite();
    private long _changed;
    private long _saved;
    private bool _writing;
    private bool _fenced;

    private ConsumerGroupState S => state.State;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!state.RecordExists)
        {
            var (category, group) = GrainKeys.SplitConsumerGroup(this.GetPrimaryKeyString());
            if (await legacy.ReadAsync(category, group, cancellationToken) is { } imported)
            {
                state.State = imported; // stored by the version that kept groups in tables: carried over once
                await state.WriteStateAsync(cancellationToken);
                LogImported(logger, group, category, imported.Chunks.Count);
            }
        }
        if (S.Exists)
        {
            ReportLagHere(true);
            // A group created before categories kept a list of their groups: recorded now (not awaited: the category
            // grain may be deleting this very group, and waits for this activation to answer).
            if (ServiceProvider.GetService<GroupRegistration>() is { } registration)
                _ = registration.RecordQuietlyAsync(this.GetPrimaryKeyString());
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        ReportLagHere(false);
        return Task.CompletedTask;
    }

    /// <summary>The silo hosting this activation reports the group's lag (absent where grains run without a silo's store: tests).</summary>
    private void ReportLagHere(bool report)
    {
        if (ServiceProvider.GetService<Telemetry.GroupLagGauges>() is not { } gauges)
            return;
        var (category, group) = GrainKeys.SplitConsumerGroup(this.GetPrimaryKeyString());
        if (report)
            gauges.Register(category, group);
        else
            gauges.Unregister(category, group);
    }

    public async Task<GroupSeekInfo> EnsureAsync(string siloId, string startKind, long nowMs)
    {
        ThrowIfFenced();
        if (S.Exists)
            return Info(siloId, created: false);
        // Recorded with its category first, so a deletion of the category finds it; refused while the category is deleted.
        if (ServiceProvider.GetService<GroupRegistration>() is { } registration)
        {
            await registration.RecordAsync(this.GetPrimaryKeyString());
            ThrowIfFenced();
            if (S.Exists)
                return Info(siloId, created: false); // another call created it meanwhile (this grain is reentrant)
        }
        S.Exists = true;
        S.CreatedAtMs = nowMs;
        S.SeekGeneration = 0;
        S.SeekKind = startKind;
        S.SeekTimeMs = nowMs;
        await PersistAsync();
        ReportLagHere(true);
        return Info(siloId, created: true);
    }

    public async Task<GroupView> ViewAsync(string siloId, string startKind, long nowMs) =>
        new(await EnsureAsync(siloId, startKind, nowMs), OpenRows());

    public Task<GroupSeekInfo?> GetAsync(string siloId)
    {
        ThrowIfFenced();
        return Task.FromResult(S.Exists ? Info(siloId, created: false) : null);
    }

    public async Task<int> SeekAsync(string kind, long timeMs)
    {
        ThrowIfFenced();
        if (!S.Exists)
            return -1;
        S.SeekGeneration++;
        S.SeekKind = kind;
        S.SeekTimeMs = timeMs;
        var generation = S.SeekGeneration;
        await PersistAsync();
        return generation;
    }

    public async Task MaterializeAsync(GroupChunkPosition[] rows)
    {
        ThrowIfFenced();
        var added = false;
        foreach (var row in rows)
        {
            if (S.Chunks.ContainsKey(row.Chunk) || BelowWatermark(row.Position, row.Chunk))
                continue;
            S.Chunks[row.Chunk] = Fresh(row, row.AppliedSeek);
            added = true;
        }
        // Awaited: a silo hands a chunk over once, and a position lost with an activation would never come back.
        if (added)
        {
            Compact(); // positions handed over as done (a seek to latest) need no row
            await PersistAsync();
        }
    }

    public async Task<bool> ResetAsync(string siloId, GroupChunkPosition[] rows, int appliedSeek)
    {
        ThrowIfFenced();
        if (S.AppliedSeek.TryGetValue(siloId, out var applied) && applied >= appliedSeek)
            return false;
        S.AppliedSeek[siloId] = appliedSeek;
        foreach (var row in rows)
        {
            // A row another silo already positioned for this seek may be leased since: leave it alone.
            if (S.Chunks.TryGetValue(row.Chunk, out var existing) && existing.AppliedSeek >= appliedSeek)
                continue;
            S.Chunks[row.Chunk] = Fresh(row, appliedSeek);
            _leases.Remove(row.Chunk);
        }
        // A seek can move the group back into chunks it had finished: nothing is below the watermark any more. Chunks
        // this silo did not know come back when another silo materialises them, positioned by this seek.
        S.WatermarkPosition = null;
        S.WatermarkChunk = null;
        Compact();
        await PersistAsync();
        return true;
    }

    public Task<GroupChunk[]> ListOpenAsync()
    {
        ThrowIfFenced();
        return Task.FromResult(OpenRows());
    }

    private GroupChunk[] OpenRows()
    {
        var open = new List<KeyValuePair<string, ChunkProgress>>(S.Chunks.Count);
        foreach (var entry in S.Chunks)
        {
            if (!entry.Value.Done)
                open.Add(entry);
        }
        open.Sort(static (a, b) => Compare(a.Value.Position, a.Key, b.Value.Position, b.Key));
        return open.ConvertAll(e => Row(e.Key, e.Value)).ToArray();
    }

    public Task<GroupChunk?> GetChunkAsync(string chunk)
    {
        ThrowIfFenced();
        return Task.FromResult(S.Chunks.TryGetValue(chunk, out var progress) ? Row(chunk, progress) : null);
    }

    public Task<int?> TryLeaseAsync(LeaseRequest request)
    {
        if (_fenced || !S.Chunks.TryGetValue(request.Chunk, out var row) || row.Done || row.AckedOffset != request.ExpectedAcked
            || row.AvailableAtMs > request.NowMs
            || (_leases.TryGetValue(request.Chunk, out var held) && held.ExpiresAtMs > request.NowMs))
        {
            return Task.FromResult<int?>(null);
        }
        row.DeliveryCount = row.DeliveryOffset == row.AckedOffset ? row.DeliveryCount + 1 : 1;
        row.DeliveryOffset = row.AckedOffset;
        _leases[request.Chunk] = new Lease(request.Token, request.Consumer, request.LeaseEnd, request.LeaseMessages, request.ExpiresAtMs);
        ChangedLazily(); // the count rides the next write (normally this delivery's ack), at the latest a second from now
        return Task.FromResult<int?>(row.DeliveryCount);
    }

    public async Task<bool> AckAsync(string chunk, string token, long offset, long messages, bool release)
    {
        if (_fenced || !S.Chunks.TryGetValue(chunk, out var row) || !_leases.TryGetValue(chunk, out var lease) || lease.Token != token
            || row.AckedOffset >= offset || offset > lease.End)
        {
            return false;
        }
        row.AckedOffset = offset;
        row.AckedMessages += messages;
        row.DeliveryOffset = offset;
        row.DeliveryCount = 0;
        if (release)
            _leases.Remove(chunk);
        else
            _leases[chunk] = lease with { Messages = lease.Messages - messages };
        return await TryPersistAsync();
    }

    public async Task<bool> AckLeaseAsync(string chunk, string token, long? doneAtSize)
    {
        if (_fenced || !S.Chunks.TryGetValue(chunk, out var row) || !_leases.TryGetValue(chunk, out var lease) || lease.Token != token
            || row.AckedOffset >= lease.End)
        {
            return false;
        }
        row.AckedOffset = lease.End;
        row.AckedMessages += lease.Messages;
        row.DeliveryOffset = lease.End;
        row.DeliveryCount = 0;
        _leases.Remove(chunk);
        if (doneAtSize is { } size && row.AckedOffset >= size)
        {
            row.Done = true;
            Compact();
        }
        return await TryPersistAsync();
    }

    public async Task<bool> NackAsync(string chunk, string token, long availableAtMs, string? reason)
    {
        if (_fenced || !S.Chunks.TryGetValue(chunk, out var row) || !_leases.TryGetValue(chunk, out var lease) || lease.Token != token)
            return false;
        _leases.Remove(chunk);
        row.AvailableAtMs = availableAtMs;
        row.LastReason = reason;
        return await TryPersistAsync();
    }

    public async Task<bool> SkipAsync(string chunk, string claim, long expectedAcked, long newOffset)
    {
        if (_fenced || !S.Chunks.TryGetValue(chunk, out var row) || !_leases.TryGetValue(chunk, out var lease) || lease.Token != claim
            || row.AckedOffset != expectedAcked)
        {
            return false;
        }
        row.AckedOffset = newOffset;
        row.AckedMessages++;
        row.DeliveryOffset = newOffset;
        row.DeliveryCount = 0;
        _leases.Remove(chunk);
        return await TryPersistAsync();
    }

    public Task MarkDoneAsync(string chunk, long sealedSize)
    {
        if (!_fenced && S.Chunks.TryGetValue(chunk, out var row) && !row.Done && row.AckedOffset >= sealedSize)
        {
            row.Done = true;
            Compact();
            Changed(); // derivable again from the durable offset, so not awaited
        }
        return Task.CompletedTask;
    }

    public async Task<long> SkipExpiredAsync(string chunk, long messages)
    {
        ThrowIfFenced();
        if (!S.Chunks.TryGetValue(chunk, out var row) || row.Done)
            return 0;
        var skipped = Math.Max(0, messages - row.AckedMessages);
        row.Done = true;
        _leases.Remove(chunk); // an ack under it now finds no lease: 409, the messages are gone
        S.SkippedByRetention += skipped;
        Compact();
        await PersistAsync();
        return skipped;
    }

    public Task<string> HostAsync() => Task.FromResult(localSilo.Name);

    public async Task DeleteAsync()
    {
        // No call is served by this activation any more (they fail and retry on the next one, which finds no group).
        _fenced = true;
        _leases.Clear();
        ReportLagHere(false);
        for (var i = 0; _writing && i < 500; i++)
            await Task.Delay(10); // the write in flight ends first (the loop stops at _fenced), so the clear sees its ETag
        await state.ClearStateAsync();
        LogDeleted(logger, this.GetPrimaryKeyString());
        this.DeactivateOnIdle();
    }

    private GroupSeekInfo Info(string siloId, bool created) =>
        new(created, S.CreatedAtMs, S.SeekGeneration, S.SeekKind ?? "earliest", S.SeekTimeMs, S.AppliedSeek.GetValueOrDefault(siloId, -1), S.SkippedByRetention);

    private GroupChunk Row(string chunk, ChunkProgress p)
    {
        _leases.TryGetValue(chunk, out var lease);
        return new GroupChunk(chunk, p.Position, p.AckedOffset, p.AckedMessages, p.Done, lease?.Token, lease?.Consumer,
            lease?.End ?? p.AckedOffset, lease?.ExpiresAtMs ?? 0, p.DeliveryOffset, p.DeliveryCount, p.AvailableAtMs, p.LastReason,
            lease?.Messages ?? 0);
    }

    private static ChunkProgress Fresh(GroupChunkPosition row, int appliedSeek) => new()
    {
        Position = row.Position,
        AckedOffset = row.AckedOffset,
        AckedMessages = row.AckedMessages,
        Done = row.Done,
        DeliveryOffset = row.AckedOffset,
        AppliedSeek = appliedSeek < 0 ? null : appliedSeek,
    };

    private bool BelowWatermark(long position, string chunk) =>
        S.WatermarkPosition is { } watermark && Compare(position, chunk, watermark, S.WatermarkChunk ?? "") <= 0;

    private static int Compare(long positionA, string chunkA, long positionB, string chunkB) =>
        positionA != positionB ? positionA.CompareTo(positionB) : string.CompareOrdinal(chunkA, chunkB);

    /// <summary>Folds the oldest finished, unleased chunks into the watermark, in chunk order, stopping at the first that is not.</summary>
    private void Compact()
    {
        var cutoff = time.GetUtcNow().ToUnixTimeMilliseconds() - (long)ClockSkewAllowance.TotalMilliseconds;
        var ordered = S.Chunks.OrderBy(e => e.Value.Position).ThenBy(e => e.Key, StringComparer.Ordinal).ToList();
        foreach (var (name, progress) in ordered)
        {
            if (!progress.Done || progress.Position >= cutoff || _leases.ContainsKey(name))
                return;
            S.Chunks.Remove(name);
            S.WatermarkPosition = progress.Position;
            S.WatermarkChunk = name;
        }
    }

    private void ThrowIfFenced()
    {
        if (_fenced)
            throw new InvalidOperationException($"This activation of group {this.GetPrimaryKeyString()} was superseded; retry.");
    }

    private sealed record Lease(string Token, string Consumer, long End, long Messages, long ExpiresAtMs);

    [LoggerMessage(2305, LogLevel.Information, "Group {Key} deleted with its category")]
    private static partial void LogDeleted(ILogger logger, string key);

    [LoggerMessage(2301, LogLevel.Information, "Group {Group} of {Category}: offsets of {Chunks} chunks carried over from the group tables into grain state")]
    private static partial void LogImported(ILogger logger, string group, string category, int chunks);
}
