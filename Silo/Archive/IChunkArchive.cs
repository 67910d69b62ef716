namespace OrleansBus.Silo.Archive;

/// <summary>
/// The archive tier for sealed chunks: a local folder in the embedded default
/// (<see cref="LocalDirectoryArchive"/>), Azure Blob Storage or Azurite in a cluster
/// (<see cref="Blob.BlobArchive"/>). One conformance suite runs against both.
/// <para><b>Names.</b> A chunk is stored as <c>&lt;category&gt;/&lt;chunk&gt;</c>. The category must pass
/// <see cref="Contracts.CategoryName.IsValid"/> and the chunk <see cref="Storage.ChunkName.TryParse"/>;
/// anything else is a programming error (<see cref="ArgumentException"/>), never sent to the store.</para>
/// <para><b>Write once.</b> <c>UploadAsync</c> never overwrites. The source must hold exactly
/// <c>expectedLength</c> bytes whose SHA-256 is <c>expectedHash</c>; otherwise the upload is refused with
/// <see cref="ArchiveIntegrityException"/> and nothing is left under the name. If the name already holds
/// the same length and hash the call succeeds (<see cref="ArchiveUploadOutcome.AlreadyArchived"/>), so a
/// retry after a lost reply is harmless; different content is an <see cref="ArchiveConflictException"/>
/// and the stored copy is left as it was. Success is returned only after the archive's copy has been
/// checked (length and hash read back from the store, or the digests the store computed itself on
/// receipt), so the caller may mark the chunk <c>archived</c> and drop local copies after it.</para>
/// <para><b>Why SHA-256, not CRC-32C.</b> The hash decides whether the bytes already under a name are "the
/// same chunk" (an idempotent retry) or another chunk (a conflict). A 32-bit CRC would take a different
/// chunk for the same one once in ~4·10⁹ such comparisons and then let the caller delete the only good
/// copy; SHA-256 makes that impossible in practice and costs ~1–2 GB/s of one core, small next to an
/// upload. The batch CRC-32Cs in the chunk index still guard the local file; the blob service checks
/// each request body with MD5 (<c>Content-MD5</c>), which is the only digest it verifies on receipt.</para>
/// <para><b>Absence.</b> <c>ExistsAsync</c>, <c>GetLengthAsync</c> (null), <c>DeleteAsync</c> (false) and
/// <c>ListAsync</c> (empty) report a missing chunk as a value; <c>ReadAsync</c> and
/// <c>DownloadToFileAsync</c> throw <see cref="ArchiveNotFoundException"/>, since a caller only reads
/// what the catalog says is archived.</para>
/// <para><b>Errors.</b> Everything from the store is translated here, in one place per backend:
/// <see cref="ArchiveUnavailableException"/> means transient (connection refused, timeouts, 5xx,
/// throttling, disk full) and the same call may be retried with backoff;
/// <see cref="ArchiveIntegrityException"/> means the bytes did not match and nothing was stored;
/// <see cref="ArchiveConflictException"/> means a different chunk holds the name;
/// any other <see cref="ArchiveException"/> is a configuration or service error that retrying will not fix.
/// Cancellation surfaces as <see cref="OperationCanceledException"/>.</para>
/// <para><b>Threading.</b> Implementations are thread-safe; concurrent calls on different chunks are
/// expected. Two concurrent uploads of one name resolve as write-once says: one creates it, the
/// other sees it (same content: success; else conflict).</para>
/// </summary>
public interface IChunkArchive
{
    /// <summary>Where the chunks go, for logs and errors (no secrets).</summary>
    string Location { get; }

    /// <summary>
    /// Uploads the file at <paramref name="sourcePath"/>, which must hold exactly the expected bytes. With no
    /// <paramref name="expectedHash"/> the archive takes the file's content as it is (its length is still checked):
    /// for a sealed chunk, whose bytes never change, that spares a full read and hash whenever the archive can
    /// store the file without copying it (a hard link); an archive that copies hashes the source itself.
    /// </summary>
    Task<ArchiveUploadOutcome> UploadAsync(string category, string chunk, string sourcePath, long expectedLength, ChunkHash? expectedHash, CancellationToken cancellationToken);

    /// <summary>
    /// Uploads <paramref name="source"/> from its current position. It must be seekable (an upload may read
    /// it more than once and rewinds it itself) and hold exactly the expected bytes from that position.
    /// It is not disposed.
    /// </summary>
    Task<ArchiveUploadOutcome> UploadAsync(string category, string chunk, Stream source, long expectedLength, ChunkHash expectedHash, CancellationToken cancellationToken);

    Task<bool> ExistsAsync(string category, string chunk, CancellationToken cancellationToken);

    /// <summary>The stored length in bytes, or null when the chunk is not archived.</summary>
    Task<long?> GetLengthAsync(string category, string chunk, CancellationToken cancellationToken);

    /// <summary>
    /// Reads up to <c>destination.Length</c> bytes starting at byte <paramref name="offset"/>; returns how many
    /// were read, fewer only at the end of the chunk (0 at or past it).
    /// </summary>
    /// <exception cref="ArchiveNotFoundException">The chunk is not archived.</exception>
    Task<int> ReadAsync(string category, string chunk, long offset, Memory<byte> destination, CancellationToken cancellationToken);

    /// <summary>
    /// Copies the whole chunk to <paramref name="path"/> (replacing it) for the local cache: written to a
    /// temporary file beside it, checked, flushed to disk and renamed, so the path never holds a partial
    /// copy. Returns the length. Failures writing <paramref name="path"/> (the caller's disk, not the archive)
    /// surface as <see cref="IOException"/>.
    /// </summary>
    /// <exception cref="ArchiveNotFoundException">The chunk is not archived.</exception>
    Task<long> DownloadToFileAsync(string category, string chunk, string path, CancellationToken cancellationToken);

    /// <summary>Deletes the chunk (retention). Returns false when it was not there.</summary>
    Task<bool> DeleteAsync(string category, string chunk, CancellationToken cancellationToken);

    /// <summary>The category's archived chunks with their lengths, in ordinal name order (so oldest first per owner).</summary>
    Task<IReadOnlyList<ArchivedChunk>> ListAsync(string category, CancellationToken cancellationToken);
}

/// <summary>An archived chunk: its name inside the category and its length in bytes.</summary>
public sealed record ArchivedChunk(string Name, long Length);

public enum ArchiveUploadOutcome
{
    /// <summary>This call stored the chunk.</summary>
    Created,

    /// <summary>The name already held the same bytes (an earlier attempt, or a concurrent one, stored them).</summary>
    AlreadyArchived,
}
