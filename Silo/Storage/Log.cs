using Microsoft.Extensions.Logging;

namespace OrleansBus.Silo.Storage;

/// <summary>Storage log events. Never logs payloads.</summary>
internal static partial class Log
{
    [LoggerMessage(1001, LogLevel.Debug, "Wrote {Batches} batches ({Bytes} bytes) to {Category}/{Chunk}")]
    public static partial void BatchesWritten(ILogger logger, string category, string chunk, int batches, long bytes);

    [LoggerMessage(1002, LogLevel.Information, "Opened chunk {Category}/{Chunk}")]
    public static partial void ChunkOpened(ILogger logger, string category, string chunk);

    [LoggerMessage(1003, LogLevel.Information, "Sealed chunk {Category}/{Chunk} at {Size} bytes, {Messages} messages")]
    public static partial void ChunkSealed(ILogger logger, string category, string chunk, long size, long messages);

    [LoggerMessage(1004, LogLevel.Error, "fdatasync of {Path} failed; batches waiting for fsync were refused")]
    public static partial void SyncFailed(ILogger logger, Exception exception, string path);

    [LoggerMessage(1005, LogLevel.Error, "Write to {Path} at offset {Offset} failed (disk full: {DiskFull}); the batch was rolled back")]
    public static partial void WriteFailed(ILogger logger, Exception exception, string path, long offset, bool diskFull);

    [LoggerMessage(1006, LogLevel.Error, "Could not roll back a failed write to {Path}; the chunk stops taking appends")]
    public static partial void RollbackFailed(ILogger logger, Exception exception, string path);

    [LoggerMessage(1007, LogLevel.Error, "Could not open a new chunk for {Category}")]
    public static partial void ChunkOpenFailed(ILogger logger, Exception exception, string category);

    [LoggerMessage(1008, LogLevel.Warning, "Recording chunk {Chunk} as sealed failed; retrying")]
    public static partial void SealRecordFailed(ILogger logger, Exception exception, string chunk);

    [LoggerMessage(1009, LogLevel.Warning, "Recovered {Path}: cut a torn tail of {DataBytes} data bytes and {IndexBytes} index bytes; {Size} bytes in {Batches} batches kept")]
    public static partial void TornTailCut(ILogger logger, string path, long dataBytes, long indexBytes, long size, int batches);

    [LoggerMessage(1010, LogLevel.Error, "Chunk {Path} is corrupt at offset {Offset}: {Reason}. It is quarantined, not truncated")]
    public static partial void ChunkCorrupt(ILogger logger, string path, long offset, string reason);

    [LoggerMessage(1011, LogLevel.Information, "Storage ready in {DataDir}: {Categories} categories, {Chunks} chunks, {Recovered} recovered")]
    public static partial void StorageReady(ILogger logger, string dataDir, int categories, int chunks, int recovered);

    [LoggerMessage(1013, LogLevel.Warning, "Could not remove the empty category {Category} after its first produce failed")]
    public static partial void EmptyCategoryNotRemoved(ILogger logger, Exception exception, string category);

    [LoggerMessage(1012, LogLevel.Error, "Chunk {Path} is listed in the catalog as {State} with {Size} bytes but its file holds {Length} bytes")]
    public static partial void ChunkFileMismatch(ILogger logger, string path, string state, long size, long length);

    [LoggerMessage(1014, LogLevel.Information, "Archived {Category}/{Chunk} ({Size} bytes): {Outcome}")]
    public static partial void ChunkUploaded(ILogger logger, string category, string chunk, long size, OrleansBus.Silo.Archive.ArchiveUploadOutcome outcome);

    [LoggerMessage(1015, LogLevel.Warning, "Archive unavailable for {Category}/{Chunk}; retrying in {Delay}")]
    public static partial void ArchiveUnavailable(ILogger logger, Exception exception, string category, string chunk, TimeSpan delay);

    [LoggerMessage(1016, LogLevel.Warning, "Archive integrity check failed for {Category}/{Chunk}; retrying")]
    public static partial void ArchiveIntegrityRetry(ILogger logger, Exception exception, string category, string chunk);

    [LoggerMessage(1017, LogLevel.Error, "Archive integrity check failed {Attempts} times for {Category}/{Chunk}; it stays sealed and local until restart")]
    public static partial void ArchiveIntegrityFailed(ILogger logger, Exception exception, string category, string chunk, int attempts);

    [LoggerMessage(1018, LogLevel.Error, "Archive conflict for {Category}/{Chunk}: another chunk holds its name. Nothing was deleted; an operator must decide")]
    public static partial void ArchiveConflict(ILogger logger, Exception exception, string category, string chunk);

    [LoggerMessage(1019, LogLevel.Error, "Archiving {Category}/{Chunk} failed; retrying in {Delay}")]
    public static partial void ArchiveFailed(ILogger logger, Exception exception, string category, string chunk, TimeSpan delay);

    [LoggerMessage(1020, LogLevel.Error, "Cannot read {Category}/{Chunk} to archive it; it stays sealed and local")]
    public static partial void ArchiveSourceUnreadable(ILogger logger, Exception exception, string category, string chunk);

    [LoggerMessage(1021, LogLevel.Error, "{Category}/{Chunk} was sealed at {Size} bytes but its file holds {Length}; not archived")]
    public static partial void ArchiveSourceMismatch(ILogger logger, string category, string chunk, long size, long length);

    [LoggerMessage(1022, LogLevel.Warning, "Recording chunk {Chunk} as archived failed; retrying")]
    public static partial void ArchiveRecordFailed(ILogger logger, Exception exception, string chunk);

    [LoggerMessage(1023, LogLevel.Information, "Dropped the local copy of archived chunk {Category}/{Chunk}")]
    public static partial void LocalCopyDropped(ILogger logger, string category, string chunk);

    [LoggerMessage(1024, LogLevel.Warning, "Could not delete the local copy {Path} of an archived chunk")]
    public static partial void LocalCopyNotDropped(ILogger logger, Exception exception, string path);

    [LoggerMessage(1025, LogLevel.Information, "Cached archived chunk {Category}/{Chunk} ({Length} bytes) for reads")]
    public static partial void ChunkCached(ILogger logger, string category, string chunk, long length);

    [LoggerMessage(1026, LogLevel.Error, "Archiving {Category}/{Chunk} failed unexpectedly; it stays sealed and local until restart")]
    public static partial void ArchiveCrashed(ILogger logger, Exception exception, string category, string chunk);

    [LoggerMessage(1041, LogLevel.Error, "{Category}/{Chunk} was sealed by {SealedBy} at {SealedSize} bytes while this silo was counted dead; it wrote {LocalSize} (never acknowledged past the seal): the tail is re-published at the next start")]
    public static partial void SealedElsewhere(ILogger logger, string category, string chunk, string sealedBy, long sealedSize, long localSize);

    [LoggerMessage(1042, LogLevel.Error, "The catalog refused to record {Category}/{Chunk} as archived at {Size} bytes (sealed at another size, or by another silo); the local chunk is kept")]
    public static partial void ArchiveNotRecorded(ILogger logger, string category, string chunk, long size);

    [LoggerMessage(1040, LogLevel.Warning, "{Category}/{Chunk} was sealed by {SealedBy} at {SealedSize} bytes while this silo was away; re-publishing the {TailBytes} bytes ({Batches} batches) written past it as new data")]
    public static partial void TailRepublished(ILogger logger, string category, string chunk, string sealedBy, long sealedSize, long tailBytes, int batches);

    [LoggerMessage(1043, LogLevel.Error, "Archived chunk {Category}/{Chunk} is missing from the archive ({Location}) and no local copy is left here: its messages cannot be read; restore the blob or a copy from another silo")]
    public static partial void ArchiveMissing(ILogger logger, string category, string chunk, string location);

    [LoggerMessage(1044, LogLevel.Warning, "Archived chunk {Category}/{Chunk} ({Size} bytes) was missing from the archive; uploaded it again from the local copy before dropping that")]
    public static partial void ArchiveRestored(ILogger logger, string category, string chunk, long size);

    [LoggerMessage(1045, LogLevel.Warning, "Kept the local copy of archived chunk {Category}/{Chunk}: the archive could not confirm it holds the chunk; checked again next sweep")]
    public static partial void LocalCopyKept(ILogger logger, Exception exception, string category, string chunk);

    [LoggerMessage(1046, LogLevel.Error, "The archive does not hold archived chunk {Category}/{Chunk} at its sealed size; this silo's partial copy is kept, a silo with the whole chunk uploads it again")]
    public static partial void ArchiveLostPartialCopyKept(ILogger logger, string category, string chunk);

    [LoggerMessage(1047, LogLevel.Warning, "The periodic archive check stopped at {Category}/{Chunk}: the archive could not answer; it runs again at the next interval")]
    public static partial void ArchiveCheckFailed(ILogger logger, Exception exception, string category, string chunk);

    [LoggerMessage(1060, LogLevel.Information, "Chunk {Category}/{Chunk} expired by retention: its local files are deleted")]
    public static partial void ChunkExpired(ILogger logger, string category, string chunk);

    [LoggerMessage(1061, LogLevel.Warning, "Could not delete a file of expired chunk {Path}; it is never served, delete it by hand")]
    public static partial void ExpiredFileNotDeleted(ILogger logger, Exception exception, string path);

    [LoggerMessage(1062, LogLevel.Information, "Chunk {Category}/{Chunk} expired while it was being archived: the blob just uploaded is deleted")]
    public static partial void ExpiredWhileArchiving(ILogger logger, string category, string chunk);

    [LoggerMessage(1063, LogLevel.Information, "Category {Category} is being deleted: this silo stopped writing it and deleted its files")]
    public static partial void CategoryDropped(ILogger logger, string category);

    [LoggerMessage(1064, LogLevel.Information, "Deleted {Path}: category {Category} was deleted while this silo was down (or recreated since)")]
    public static partial void DeletedCategoryFilesRemoved(ILogger logger, string category, string path);
}
