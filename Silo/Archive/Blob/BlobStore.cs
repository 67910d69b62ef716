using System.Net;
using System.Security.Cryptography;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Archive.Blob;

/// <summary>What a blob's properties say: its length, the MD5 the service stores, our SHA-256 metadata.</summary>
internal sealed record BlobProperties(long Length, byte[]? ContentMd5, string? Sha256);

/// <summary>One entry of a listing: the full blob name and its length.</summary>
internal sealed record BlobItem(string Name, long Length);

internal enum BlobWrite
{
    Created,

    /// <summary><c>If-None-Match: *</c> failed: the name is taken (409 BlobAlreadyExists or 412).</summary>
    AlreadyExists,

    /// <summary>404 ContainerNotFound: the container went away; create it and try again.</summary>
    ContainerMissing,
}

/// <summary>
/// The operations the archive needs, on Azure.Storage.Blobs' <see cref="BlobContainerClient"/>: one pipeline built once
/// from <see cref="BlobArchiveOptions"/> (credentials, retries with backoff, per-try network timeout, connect timeout).
/// Every call runs under <see cref="BlobArchiveOptions.RequestTimeout"/> (all retries included) and goes through
/// <see cref="RunAsync{T}"/>, the one place where the SDK's failures become archive exceptions: transport failures,
/// timeouts, 5xx, 408 and 429 → <see cref="ArchiveUnavailableException"/>; a body whose MD5 the service refused →
/// <see cref="ArchiveIntegrityException"/>; an unexpected 404 → <see cref="ArchiveNotFoundException"/>; the rest →
/// <see cref="ArchiveException"/>. The caller's own cancellation stays an <see cref="OperationCanceledException"/>.
/// Thread-safe.
/// </summary>
internal sealed class BlobStore
{
    /// <summary>Our SHA-256 of the chunk, as blob metadata (<c>x-ms-meta-sha256</c>).</summary>
    private const string Sha256Metadata = "sha256";

    /// <summary>The service returns an MD5 for a ranged read only up to 4 MiB.</summary>
    private const int RangeMd5MaxBytes = 4 * 1024 * 1024;

    private readonly BlobContainerClient _container;
    private readonly TimeSpan _timeout;

    public BlobStore(BlobArchiveOptions options)
    {
        _timeout = options.RequestTimeout;
        _container = CreateContainerClient(options);
        Location = _container.Uri.GetLeftPart(UriPartial.Path);
    }

    /// <summary>The container URL, for logs and errors (holds no secret).</summary>
    public string Location { get; }

    /// <summary>Creates the container; false when it already existed.</summary>
    public Task<bool> CreateContainerAsync(CancellationToken cancellationToken) =>
        RunAsync("Create container", async ct => await _container.CreateIfNotExistsAsync(cancellationToken: ct) is not null, cancellationToken);

    /// <summary>
    /// Writes a blob in one block: Put Block with the body's MD5 as <c>Content-MD5</c> (the service refuses a body that does
    /// not match it, so bytes that changed after they were hashed are never stored), then Put Block List with
    /// <c>If-None-Match: *</c>, the MD5 stored as the blob's and our SHA-256 as metadata. Not Put Blob: the SDK sends that
    /// through its partitioning uploader, which takes no precalculated MD5, and an MD5 it computed itself while sending
    /// would vouch for whatever it read. The body is read from its current position.
    /// </summary>
    public async Task<BlobWrite> PutBlobAsync(string name, Stream body, byte[] md5, ChunkHash? sha256, CancellationToken cancellationToken)
    {
        var id = Convert.ToBase64String(Guid.NewGuid().ToByteArray());
        if (!await PutBlockAsync(name, id, body, md5, cancellationToken))
            return BlobWrite.ContainerMissing;
        return await PutBlockListAsync(name, [id], md5, sha256, cancellationToken);
    }

    /// <summary>Put Block with the block's MD5; false when the container does not exist.</summary>
    public Task<bool> PutBlockAsync(string name, string blockId, Stream body, byte[] md5, CancellationToken cancellationToken) =>
        RunAsync($"Put Block {name}", async ct =>
            await WriteAsync(() => Block(name).StageBlockAsync(blockId, body, new BlockBlobStageBlockOptions
            {
                TransferValidation = new UploadTransferValidationOptions { ChecksumAlgorithm = StorageChecksumAlgorithm.MD5, PrecalculatedChecksum = md5 },
            }, ct)) != BlobWrite.ContainerMissing, cancellationToken);

    /// <summary>Put Block List with <c>If-None-Match: *</c>, storing the whole blob's MD5 (when given) and our SHA-256.</summary>
    public Task<BlobWrite> PutBlockListAsync(string name, IReadOnlyList<string> blockIds, byte[]? md5, ChunkHash? sha256, CancellationToken cancellationToken) =>
        RunAsync($"Put Block List {name}", ct => WriteAsync(() => Block(name).CommitBlockListAsync(blockIds, new CommitBlockListOptions
        {
            HttpHeaders = md5 is null ? null : new BlobHttpHeaders { ContentHash = md5 },
            Metadata = Metadata(sha256),
            Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
        }, ct)), cancellationToken);

    /// <summary>The blob's properties; null when the blob or its container does not exist.</summary>
    public Task<BlobProperties?> GetPropertiesAsync(string name, CancellationToken cancellationToken) =>
        RunAsync($"Get Blob Properties {name}", async ct =>
        {
            try
            {
                var properties = (await _container.GetBlobClient(name).GetPropertiesAsync(cancellationToken: ct)).Value;
                properties.Metadata.TryGetValue(Sha256Metadata, out var sha);
                return new BlobProperties(properties.ContentLength, properties.ContentHash is { Length: > 0 } hash ? hash : null, sha);
            }
            catch (RequestFailedException e) when (e.Status == (int)HttpStatusCode.NotFound)
            {
                return null;
            }
        }, cancellationToken);

    /// <summary>
    /// A ranged read into <paramref name="destination"/>; the bytes read (0 at or past the end). Ranges up to 4 MiB come
    /// with the service's MD5 of the range, which the SDK checks.
    /// </summary>
    public Task<int> ReadRangeAsync(string name, long offset, Memory<byte> destination, CancellationToken cancellationToken) =>
        RunAsync($"Get Blob {name}", async ct =>
        {
            Response<BlobDownloadStreamingResult> response;
            try
            {
                response = await _container.GetBlobClient(name).DownloadStreamingAsync(new BlobDownloadOptions
                {
                    Range = new HttpRange(offset, destination.Length),
                    // The service's MD5 of the range, checked below. Not the SDK's own check (AutoValidateChecksum): that
                    // halved the rate of 1 MiB reads on Azurite (measured; docs/benchmarks.md).
                    TransferValidation = destination.Length <= RangeMd5MaxBytes
                        ? new DownloadTransferValidationOptions { ChecksumAlgorithm = StorageChecksumAlgorithm.MD5, AutoValidateChecksum = false }
                        : null,
                }, ct);
            }
            catch (RequestFailedException e) when (e.Status == (int)HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                return 0;
            }
            using var result = response.Value;
            await using var body = result.Content;
            var total = 0;
            while (total < destination.Length)
            {
                var read = await body.ReadAsync(destination[total..], ct);
                if (read == 0)
                    break;
                total += read;
            }
#pragma warning disable CA5351 // MD5 is the Blob API's transfer checksum here, not a security measure.
            var actual = MD5.HashData(destination.Span[..total]);
#pragma warning restore CA5351
            if (result.Details.ContentHash is { Length: > 0 } expected && !actual.AsSpan().SequenceEqual(expected))
            {
                throw new ArchiveIntegrityException(
                    $"Get Blob {name} bytes {offset}-{offset + total - 1}: the range's MD5 does not match the service's; the read was corrupted in transit ({Location}).");
            }
            return total;
        }, cancellationToken);

    /// <summary>The whole blob into <paramref name="destination"/>, checking its length and, when the service stores one, its MD5.</summary>
    public Task<long> DownloadAsync(string name, Stream destination, CancellationToken cancellationToken) =>
        RunAsync($"Get Blob {name}", async ct =>
        {
            using var result = (await _container.GetBlobClient(name).DownloadStreamingAsync(cancellationToken: ct)).Value;
            var announced = result.Details.ContentLength;
            var storedMd5 = result.Details.BlobContentHash;
            await using var body = result.Content;
            using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
            long length = 0;
            try
            {
                int read;
                while ((read = await body.ReadAsync(buffer, ct)) > 0)
                {
                    md5.AppendData(buffer, 0, read);
                    await destination.WriteAsync(buffer.AsMemory(0, read), ct);
                    length += read;
                }
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
            if (announced != length)
                throw new ArchiveUnavailableException($"Get Blob {name} ended after {length} of {announced} bytes ({Location}).");
            if (storedMd5 is { Length: > 0 } && !md5.GetHashAndReset().AsSpan().SequenceEqual(storedMd5))
                throw new ArchiveIntegrityException($"Get Blob {name}: the downloaded bytes do not match the blob's stored MD5 ({Location}).");
            return length;
        }, cancellationToken);

    /// <summary>Deletes the blob; false when it was not there.</summary>
    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken) =>
        RunAsync($"Delete Blob {name}", async ct =>
        {
            try
            {
                return (await _container.GetBlobClient(name).DeleteIfExistsAsync(cancellationToken: ct)).Value;
            }
            catch (RequestFailedException e) when (e.Status == (int)HttpStatusCode.NotFound)
            {
                return false; // the container itself is gone
            }
        }, cancellationToken);

    /// <summary>The blobs under <paramref name="prefix"/>; empty when the container does not exist.</summary>
    public Task<IReadOnlyList<BlobItem>> ListAsync(string prefix, CancellationToken cancellationToken) =>
        RunAsync($"List Blobs {prefix}", async ct =>
        {
            var items = new List<BlobItem>();
            try
            {
                await foreach (var blob in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }, ct))
                    items.Add(new BlobItem(blob.Name, blob.Properties.ContentLength ?? 0));
            }
            catch (RequestFailedException e) when (e.Status == (int)HttpStatusCode.NotFound)
            {
                // No container: nothing archived yet.
            }
            return (IReadOnlyList<BlobItem>)items;
        }, cancellationToken);

    private BlockBlobClient Block(string name) => _container.GetBlockBlobClient(name);

    private static Dictionary<string, string>? Metadata(ChunkHash? sha256) =>
        sha256 is { } hash ? new Dictionary<string, string> { [Sha256Metadata] = hash.ToString() } : null;

    /// <summary>A write's outcome: created, or the two answers that are not errors here (name taken, container gone).</summary>
    private static async Task<BlobWrite> WriteAsync<T>(Func<Task<Response<T>>> write)
    {
        try
        {
            await write();
            return BlobWrite.Created;
        }
        catch (RequestFailedException e) when (e.Status is (int)HttpStatusCode.Conflict or (int)HttpStatusCode.PreconditionFailed
            && e.ErrorCode is "BlobAlreadyExists" or "ConditionNotMet" or null)
        {
            return BlobWrite.AlreadyExists;
        }
        catch (RequestFailedException e) when (e.Status == (int)HttpStatusCode.NotFound && e.ErrorCode == "ContainerNotFound")
        {
            return BlobWrite.ContainerMissing;
        }
    }

    private async Task<T> RunAsync<T>(string what, Func<CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(_timeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            return await operation(linked.Token);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ArchiveUnavailableException($"{what} timed out after {_timeout.TotalSeconds:0.#} s ({Location}).", e);
        }
        catch (RequestFailedException e)
        {
            throw Translate(what, e);
        }
        catch (AggregateException e) when (!cancellationToken.IsCancellationRequested)
        {
            // The pipeline's retries ran out (connection refused, resets): transient by nature.
            throw new ArchiveUnavailableException($"{what} failed: {e.InnerExceptions.LastOrDefault()?.Message ?? e.Message} ({Location}).", e);
        }
        catch (Exception e) when (e is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
        {
            throw new ArchiveUnavailableException($"{what} failed while transferring: {e.Message} ({Location}).", e);
        }
        catch (InvalidDataException e)
        {
            // The SDK's own check of a range's MD5 against the service's.
            throw new ArchiveIntegrityException($"{what}: {e.Message}; the read was corrupted in transit ({Location}).", e);
        }
    }

    private ArchiveException Translate(string what, RequestFailedException e)
    {
        var detail = $"{what}: {e.Status} {e.ErrorCode} ({Location}).";
        return e.Status switch
        {
            0 => new ArchiveUnavailableException($"{what} failed: {e.Message} ({Location}).", e),
            _ when IsDigestMismatch(e) => new ArchiveIntegrityException($"{detail} The body was corrupted on the way (MD5 mismatch); nothing was stored.", e),
            >= 500 or 408 or 429 => new ArchiveUnavailableException(detail, e),
            404 => new ArchiveNotFoundException(detail, e),
            401 or 403 => new ArchiveException($"{detail} Check the account name and key, or the identity's role on the container (Storage Blob Data Contributor).", e),
            _ => new ArchiveException(detail, e),
        };
    }

    /// <summary>
    /// Azure says 400 Md5Mismatch; Azurite 3.35 says 400 InvalidOperation "Provided contentMD5 doesn't match."
    /// Both mean the body was refused and nothing was stored.
    /// </summary>
    private static bool IsDigestMismatch(RequestFailedException e) =>
        e.ErrorCode is "Md5Mismatch" or "Crc64Mismatch"
        || (e.Status == 400 && e.Message.Contains("MD5", StringComparison.OrdinalIgnoreCase) && e.Message.Contains("match", StringComparison.OrdinalIgnoreCase));

    private static BlobContainerClient CreateContainerClient(BlobArchiveOptions options)
    {
        var clientOptions = new BlobClientOptions
        {
            Transport = new HttpClientTransport(new SocketsHttpHandler
            {
                UseProxy = false,
                ConnectTimeout = options.ConnectTimeout,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                AutomaticDecompression = DecompressionMethods.None,
            }),
        };
        // Retries are the pipeline's: exponential backoff on transport errors, 408, 429 and 5xx; each try bounded by the
        // request timeout, and all of them together too (RunAsync).
        clientOptions.Retry.Mode = RetryMode.Exponential;
        clientOptions.Retry.MaxRetries = options.MaxRetries;
        clientOptions.Retry.Delay = TimeSpan.FromMilliseconds(200);
        clientOptions.Retry.MaxDelay = TimeSpan.FromSeconds(5);
        clientOptions.Retry.NetworkTimeout = options.RequestTimeout;
        var service = !string.IsNullOrEmpty(options.ConnectionString)
            ? new BlobServiceClient(options.ConnectionString, clientOptions)
            : !string.IsNullOrEmpty(options.AccountKey)
                ? new BlobServiceClient(options.ServiceUri, new StorageSharedKeyCredential(options.AccountName, options.AccountKey), clientOptions)
                : new BlobServiceClient(options.ServiceUri, options.Credential ?? new DefaultAzureCredential(), clientOptions);
        return service.GetBlobContainerClient(options.Container);
    }
}
