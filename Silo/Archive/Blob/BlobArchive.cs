using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Archive.Blob;

/// <summary>
/// The cluster archive: chunks as block blobs <c>&lt;category&gt;/&lt;chunk&gt;</c> in one container of Azure
/// Blob Storage or Azurite, through Azure.Storage.Blobs (<see cref="BlobStore"/>).
/// <para>Upload: a HEAD first (a retry after a lost reply then costs no transfer); one pass over the source
/// for length, SHA-256 and MD5 (refused before sending anything if it is not what the caller expects); then
/// Put Block (one block, or, above <see cref="BlobArchiveOptions.SinglePutMaxBytes"/>, one per
/// <see cref="BlobArchiveOptions.BlockBytes"/>) with <c>Content-MD5</c>, so the service refuses a body corrupted on
/// the way, and Put Block List with <c>If-None-Match: *</c>, so it never overwrites. "Already exists" is resolved by comparing the stored length and digests
/// (the MD5 the service computed, our SHA-256 metadata, or a full read-back when neither is there).
/// Success is returned after a HEAD shows the expected length, MD5 and SHA-256.</para>
/// <para>The container is created on the first upload (and again if it disappears). Thread-safe.</para>
/// </summary>
public sealed class BlobArchive : IChunkArchive, IDisposable
{
    private readonly BlobArchiveOptions _options;
    private readonly BlobStore _client;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _containerGate = new(1, 1);
    private volatile bool _containerReady;

    public BlobArchive(BlobArchiveOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _client = new BlobStore(options);
    }

    public string Location => "blob " + _client.Location;

    public async Task<ArchiveUploadOutcome> UploadAsync(string category, string chunk, string sourcePath, long expectedLength, ChunkHash? expectedHash, CancellationToken cancellationToken)
    {
        ArchiveNames.Validate(category, chunk);
        await using var source = ArchiveFiles.OpenSource(sourcePath, ArchiveNames.Blob(category, chunk));
        var hash = expectedHash ?? await ArchiveFiles.HashSourceAsync(source, cancellationToken); // the blob's sha256 metadata needs it
        return await UploadAsync(category, chunk, source, expectedLength, hash, cancellationToken);
    }

    public async Task<ArchiveUploadOutcome> UploadAsync(string category, string chunk, Stream source, long expectedLength, ChunkHash expectedHash, CancellationToken cancellationToken)
    {
        ArchiveNames.Validate(category, chunk);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedLength);
        if (!source.CanSeek)
            throw new ArgumentException("The upload source must be seekable: it is read once to hash it, then again to send it.", nameof(source));
        var name = ArchiveNames.Blob(category, chunk);
        var start = source.Position;

        if (await _client.GetPropertiesAsync(name, cancellationToken) is { } existing)
            return await ResolveExistingAsync(category, chunk, existing, expectedLength, expectedHash, source, start, null, cancellationToken);

        var single = expectedLength <= _options.SinglePutMaxBytes;
        var digest = await DigestAsync(source, start, expectedLength, single ? 0 : _options.BlockBytes, cancellationToken);
        digest.EnsureMatches(name, expectedLength, expectedHash);

        var result = BlobWrite.ContainerMissing;
        for (var attempt = 0; attempt < 2 && result == BlobWrite.ContainerMissing; attempt++)
        {
            await EnsureContainerAsync(cancellationToken);
            result = single
                ? await PutSingleAsync(name, source, start, expectedLength, digest, expectedHash, cancellationToken)
                : await PutBlocksAsync(name, source, start, expectedLength, digest, expectedHash, cancellationToken);
            if (result == BlobWrite.ContainerMissing)
                _containerReady = false;
        }
        switch (result)
        {
            case BlobWrite.ContainerMissing:
                throw new ArchiveUnavailableException($"Upload of {name}: the container {_client.Location} keeps disappearing; retry.");
            case BlobWrite.AlreadyExists:
                var stored = await _client.GetPropertiesAsync(name, cancellationToken)
                    ?? throw new ArchiveUnavailableException($"Upload of {name}: the blob existed a moment ago and is gone now; retry.");
                return await ResolveExistingAsync(category, chunk, stored, expectedLength, expectedHash, source, start, digest, cancellationToken);
        }
        await VerifyAsync(name, expectedLength, expectedHash, digest.Md5!, cancellationToken);
        Log.Archived(_logger, category, chunk, expectedLength, expectedHash.ToString(), Location);
        return ArchiveUploadOutcome.Created;
    }

    public async Task<bool> ExistsAsync(string category, string chunk, CancellationToken cancellationToken)
    {
        ArchiveNames.Validate(category, chunk);
        return await _client.GetPropertiesAsync(ArchiveNames.Blob(category, chunk), cancellationToken) is not null;
    }

    public async Task<long?> GetLengthAsync(string category, string chunk, CancellationToken cancellationToken)
    {
        ArchiveNames.Validate(category, chunk);
        return (await _client.GetPropertiesAsync(ArchiveNames.Blob(category, chunk), cancellationToken))?.Length;
    }

    public async Task<int> ReadAsync(string category, string chunk, long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        ArchiveNames.Validate(category, chunk);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var name = ArchiveNames.Blob(category, chunk);
        if (destination.IsEmpty)
        {
            return await _client.GetPropertiesAsync(name, cancellationToken) is null
                ? throw new ArchiveNotFoundException($"Read of {name}: not in {Location}.")
                : 0;
        }
        return await _client.ReadRangeAsync(name, offset, destination, cancellationToken);
    }

    public Task<long> DownloadToFileAsync(string category, string chunk, string path, CancellationToken cancellationToken)
    {
        ArchiveNames.Validate(category, chunk);
        var name = ArchiveNames.Blob(category, chunk);
        return ArchiveFiles.ReplaceAsync(path, (output, ct) => _client.DownloadAsync(name, output, ct), cancellationToken);
    }

    public async Task<bool> DeleteAsync(string category, string chunk, CancellationToken cancellationToken)
    {
        ArchiveNames.Validate(category, chunk);
        var deleted = await _client.DeleteAsync(ArchiveNames.Blob(category, chunk), cancellationToken);
        if (deleted)
            Log.Deleted(_logger, category, chunk, Location);
        return deleted;
    }

    public async Task<IReadOnlyList<ArchivedChunk>> ListAsync(string category, CancellationToken cancellationToken)
    {
        ArchiveNames.ValidateCategory(category);
        var prefix = category + "/";
        var chunks = new List<ArchivedChunk>();
        foreach (var item in await _client.ListAsync(prefix, cancellationToken))
        {
            var name = item.Name[prefix.Length..];
            if (ChunkName.TryParse(name, out _, out _))
                chunks.Add(new ArchivedChunk(name, item.Length));
        }
        chunks.Sort(static (x, y) => string.CompareOrdinal(x.Name, y.Name));
        return chunks;
    }

    public void Dispose() => _containerGate.Dispose();

    private static async Task<SourceDigest> DigestAsync(Stream source, long start, long expectedLength, long blockBytes, CancellationToken cancellationToken)
    {
        source.Seek(start, SeekOrigin.Begin);
        return await SourceDigest.ComputeAsync(source, expectedLength, md5: true, blockBytes, cancellationToken);
    }

    private async Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        if (_containerReady)
            return;
        await _containerGate.WaitAsync(cancellationToken);
        try
        {
            if (_containerReady)
                return;
            if (await _client.CreateContainerAsync(cancellationToken))
                Log.ContainerCreated(_logger, _client.Location);
            _containerReady = true;
        }
        finally
        {
            _containerGate.Release();
        }
    }

    private async Task<BlobWrite> PutSingleAsync(string name, Stream source, long start, long length, SourceDigest digest, ChunkHash hash, CancellationToken cancellationToken)
    {
        await using var body = new RangeStream(source, start, length);
        return await _client.PutBlobAsync(name, body, digest.Md5!, hash, cancellationToken);
    }

    /// <summary>
    /// Stages each block under an id unique to this attempt (so a concurrent or abandoned attempt on the same
    /// name cannot mix its blocks into ours), then commits the list with If-None-Match: *. Staged blocks of a
    /// failed attempt are discarded by the service (uncommitted blocks expire after a week).
    /// </summary>
    private async Task<BlobWrite> PutBlocksAsync(string name, Stream source, long start, long length, SourceDigest digest, ChunkHash hash, CancellationToken cancellationToken)
    {
        var attempt = Guid.NewGuid().ToString("N");
        var ids = new List<string>(digest.BlockMd5s.Count);
        for (var i = 0; i < digest.BlockMd5s.Count; i++)
        {
            var offset = i * _options.BlockBytes;
            var blockLength = Math.Min(_options.BlockBytes, length - offset);
            var id = Convert.ToBase64String(Encoding.ASCII.GetBytes($"{attempt}-{i:D6}"));
            await using var body = new RangeStream(source, start + offset, blockLength);
            if (!await _client.PutBlockAsync(name, id, body, digest.BlockMd5s[i], cancellationToken))
                return BlobWrite.ContainerMissing;
            ids.Add(id);
        }
        return await _client.PutBlockListAsync(name, ids, digest.Md5!, hash, cancellationToken);
    }

    /// <summary>The stored copy must show the expected length, our MD5 and our SHA-256, or the upload did not happen as we think.</summary>
    private async Task VerifyAsync(string name, long expectedLength, ChunkHash expectedHash, byte[] md5, CancellationToken cancellationToken)
    {
        var stored = await _client.GetPropertiesAsync(name, cancellationToken)
            ?? throw new ArchiveException($"Upload of {name}: the service confirmed it, but a HEAD right after finds no blob ({Location}).");
        var problems = new List<string>();
        if (stored.Length != expectedLength)
            problems.Add($"length {stored.Length}, expected {expectedLength}");
        if (stored.ContentMd5 is null || !stored.ContentMd5.AsSpan().SequenceEqual(md5))
            problems.Add($"Content-MD5 {(stored.ContentMd5 is null ? "missing" : Convert.ToBase64String(stored.ContentMd5))}, expected {Convert.ToBase64String(md5)}");
        if (!ChunkHash.TryParse(stored.Sha256, out var storedHash) || storedHash != expectedHash)
            problems.Add($"sha256 metadata {stored.Sha256 ?? "missing"}, expected {expectedHash}");
        if (problems.Count > 0)
            throw new ArchiveIntegrityException($"Upload of {name} does not verify: {string.Join("; ", problems)}. The blob was left in place ({Location}).");
    }

    /// <summary>
    /// Decides whether the blob already under the name is our chunk. Length first; then our SHA-256 metadata
    /// if present; else the service's MD5 against the source's; else (no digest stored) a full read-back.
    /// </summary>
    private async Task<ArchiveUploadOutcome> ResolveExistingAsync(string category, string chunk, BlobProperties stored, long expectedLength, ChunkHash expectedHash,
        Stream source, long start, SourceDigest? digest, CancellationToken cancellationToken)
    {
        var name = ArchiveNames.Blob(category, chunk);
        string? difference = null;
        if (stored.Length != expectedLength)
        {
            difference = $"it holds {stored.Length} bytes; the upload has {expectedLength}";
        }
        else if (stored.Sha256 is not null)
        {
            if (!ChunkHash.TryParse(stored.Sha256, out var storedHash) || storedHash != expectedHash)
                difference = $"its sha256 is {stored.Sha256}; the upload's is {expectedHash}";
        }
        else if (stored.ContentMd5 is not null)
        {
            digest ??= await DigestAsync(source, start, expectedLength, 0, cancellationToken);
            digest.EnsureMatches(name, expectedLength, expectedHash);
            if (!stored.ContentMd5.AsSpan().SequenceEqual(digest.Md5))
                difference = "its MD5 differs from the upload's";
        }
        else
        {
            var readBack = await ReadBackHashAsync(name, cancellationToken);
            if (readBack != expectedHash)
                difference = $"its content hashes to {readBack}; the upload's is {expectedHash}";
        }
        if (difference is null)
        {
            Log.AlreadyArchived(_logger, category, chunk, expectedLength, Location);
            return ArchiveUploadOutcome.AlreadyArchived;
        }
        Log.Conflict(_logger, category, chunk, Location, difference);
        throw new ArchiveConflictException($"{name} already exists in {Location} and differs: {difference}. It was not overwritten.");
    }

    private async Task<ChunkHash> ReadBackHashAsync(string name, CancellationToken cancellationToken)
    {
        await using var sink = new HashingSink();
        await _client.DownloadAsync(name, sink, cancellationToken);
        return sink.Hash();
    }

    /// <summary>A write-only stream that keeps only the SHA-256 of what passes through.</summary>
    private sealed class HashingSink : Stream
    {
        private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public ChunkHash Hash() => ChunkHash.From(_sha);

        public override void Write(byte[] buffer, int offset, int count) => _sha.AppendData(buffer, offset, count);

        public override void Write(ReadOnlySpan<byte> buffer) => _sha.AppendData(buffer);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _sha.AppendData(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                _sha.Dispose();
            base.Dispose(disposing);
        }
    }
}
