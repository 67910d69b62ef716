using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace OrleansBus.Silo.Archive.Blob;

/// <summary>What a HEAD of a blob says: its length, the MD5 the service stores, our SHA-256 metadata.</summary>
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
/// A small client for the parts of the Azure Blob REST API the archive needs, over one pooled HttpClient
/// (no proxy; Azurite is on loopback and Azure is reached directly). Every request goes through
/// <see cref="RunAsync{T}"/> and <see cref="SendAsync"/>: the one place where transport failures,
/// timeouts and HTTP statuses become archive exceptions (5xx/408/429/connection errors/timeouts →
/// <see cref="ArchiveUnavailableException"/>, 400 Md5Mismatch → <see cref="ArchiveIntegrityException"/>,
/// unexpected 404 → <see cref="ArchiveNotFoundException"/>, the rest → <see cref="ArchiveException"/>).
/// Each request carries x-ms-version <see cref="BlobArchiveOptions.ApiVersion"/>, a fresh x-ms-date and the
/// authorizer's header. Thread-safe.
/// </summary>
internal sealed partial class BlobRestClient : IDisposable
{
    /// <summary>The service returns an MD5 for a ranged GET only up to 4 MiB.</summary>
    private const int RangeMd5MaxBytes = 4 * 1024 * 1024;
    private const string Sha256Metadata = "x-ms-meta-sha256";
    private readonly HttpClient _http;
    private readonly IBlobRequestAuthorizer _authorizer;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly string _containerUrl;

    public BlobRestClient(BlobArchiveOptions options, IBlobRequestAuthorizer authorizer, TimeProvider time, HttpMessageHandler? handler = null)
    {
        _authorizer = authorizer;
        _time = time;
        _timeout = options.RequestTimeout;
        _containerUrl = options.ServiceUri!.AbsoluteUri.TrimEnd('/') + "/" + options.Container;
        handler ??= new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectTimeout = options.ConnectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.None,
        };
        _http = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The container URL, for logs and errors (holds no secret).</summary>
    public string Location => _containerUrl;

    /// <summary>Creates the container; false when it already existed.</summary>
    public Task<bool> CreateContainerAsync(CancellationToken cancellationToken) =>
        RunAsync("Create container", async ct =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, _containerUrl + "?restype=container");
            using var response = await SendAsync(request, "Create container", HttpCompletionOption.ResponseContentRead, ct, HttpStatusCode.Created, HttpStatusCode.Conflict);
            return response.StatusCode == HttpStatusCode.Created;
        }, cancellationToken);

    /// <summary>Put Blob with <c>If-None-Match: *</c>, the body's MD5 (the service refuses a body that does not match) and our SHA-256 as metadata.</summary>
    public Task<(BlobWrite Result, byte[]? ServiceMd5)> PutBlobAsync(string name, HttpContent body, byte[] md5, ChunkHash? sha256, CancellationToken cancellationToken) =>
        RunAsync($"Put Blob {name}", async ct =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, BlobUrl(name)) { Content = body };
            body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            body.Headers.ContentMD5 = md5;
            request.Headers.IfNoneMatch.Add(EntityTagHeaderValue.Any);
            request.Headers.ExpectContinue = true;
            request.Headers.TryAddWithoutValidation("x-ms-blob-type", "BlockBlob");
            if (sha256 is { } hash)
                request.Headers.TryAddWithoutValidation(Sha256Metadata, hash.ToString());
            using var response = await SendAsync(request, $"Put Blob {name}", HttpCompletionOption.ResponseContentRead, ct,
                HttpStatusCode.Created, HttpStatusCode.Conflict, HttpStatusCode.PreconditionFailed, HttpStatusCode.NotFound);
            return (WriteResult(response), response.Content.Headers.ContentMD5);
        }, cancellationToken);

    /// <summary>Put Block: stages one block (its MD5 checked by the service) under an upload-unique block id.</summary>
    public Task<bool> PutBlockAsync(string name, string blockId, HttpContent body, byte[] md5, CancellationToken cancellationToken) =>
        RunAsync($"Put Block {name}", async ct =>
        {
            var url = BlobUrl(name) + "?comp=block&blockid=" + Uri.EscapeDataString(blockId);
            using var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = body };
            body.Headers.ContentMD5 = md5;
            request.Headers.ExpectContinue = true;
            using var response = await SendAsync(request, $"Put Block {name}", HttpCompletionOption.ResponseContentRead, ct, HttpStatusCode.Created, HttpStatusCode.NotFound);
            return response.StatusCode == HttpStatusCode.Created;
        }, cancellationToken);

    /// <summary>
    /// Put Block List with <c>If-None-Match: *</c>: commits the staged blocks in order, recording the whole MD5
    /// and SHA-256 (the service stores that MD5 as given; each block's was checked when staged).
    /// </summary>
    public Task<BlobWrite> PutBlockListAsync(string name, IReadOnlyList<string> blockIds, byte[]? md5, ChunkHash? sha256, CancellationToken cancellationToken) =>
        RunAsync($"Put Block List {name}", async ct =>
        {
            var xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
            foreach (var id in blockIds)
                xml.Append("<Latest>").Append(id).Append("</Latest>");
            xml.Append("</BlockList>");
            var body = new ByteArrayContent(Encoding.UTF8.GetBytes(xml.ToString()));
            body.Headers.ContentType = new MediaTypeHeaderValue("application/xml");
            using var request = new HttpRequestMessage(HttpMethod.Put, BlobUrl(name) + "?comp=blocklist") { Content = body };
            request.Headers.IfNoneMatch.Add(EntityTagHeaderValue.Any);
            if (md5 is not null)
                request.Headers.TryAddWithoutValidation("x-ms-blob-content-md5", Convert.ToBase64String(md5));
            request.Headers.TryAddWithoutValidation("x-ms-blob-content-type", "application/octet-stream");
            if (sha256 is { } hash)
                request.Headers.TryAddWithoutValidation(Sha256Metadata, hash.ToString());
            using var response = await SendAsync(request, $"Put Block List {name}", HttpCompletionOption.ResponseContentRead, ct,
                HttpStatusCode.Created, HttpStatusCode.Conflict, HttpStatusCode.PreconditionFailed, HttpStatusCode.NotFound);
            return WriteResult(response);
        }, cancellationToken);

    /// <summary>Get Blob Properties (HEAD); null when the blob or its container does not exist.</summary>
    public Task<BlobProperties?> GetPropertiesAsync(string name, CancellationToken cancellationToken) =>
        RunAsync($"Get Blob Properties {name}", async ct =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, BlobUrl(name));
            using var response = await SendAsync(request, $"Get Blob Properties {name}", HttpCompletionOption.ResponseHeadersRead, ct, HttpStatusCode.OK, HttpStatusCode.NotFound);
            if (response.StatusCode == HttpStatusCode.NotFound)
                return null;
            var length = response.Content.Headers.ContentLength
                ?? throw new ArchiveException($"Get Blob Properties {name} returned no Content-Length ({Location}).");
            var sha = response.Headers.TryGetValues(Sha256Metadata, out var values) ? values.FirstOrDefault() : null;
            return new BlobProperties(length, response.Content.Headers.ContentMD5, sha);
        }, cancellationToken);

    /// <summary>
    /// Ranged Get Blob into <paramref name="destination"/>; returns the bytes read (0 at or past the end).
    /// Ranges up to 4 MiB come with the service's MD5 of the range, which is checked.
    /// </summary>
    public Task<int> ReadRangeAsync(string name, long offset, Memory<byte> destination, CancellationToken cancellationToken) =>
        RunAsync($"Get Blob {name}", async ct =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, BlobUrl(name));
            var last = offset + destination.Length - 1;
            request.Headers.TryAddWithoutValidation("x-ms-range", string.Create(CultureInfo.InvariantCulture, $"bytes={offset}-{last}"));
            if (destination.Length <= RangeMd5MaxBytes)
                request.Headers.TryAddWithoutValidation("x-ms-range-get-content-md5", "true");
            using var response = await SendAsync(request, $"Get Blob {name}", HttpCompletionOption.ResponseHeadersRead, ct,
                HttpStatusCode.OK, HttpStatusCode.PartialContent, HttpStatusCode.RequestedRangeNotSatisfiable);
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
                return 0;
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            // 200 means the range was ignored (the service does that for an empty blob): skip to the offset.
            var skip = response.StatusCode == HttpStatusCode.OK ? offset : 0;
            var read = await ReadIntoAsync(body, skip, destination, ct);
            if (response.StatusCode == HttpStatusCode.PartialContent && response.Content.Headers.ContentMD5 is { } expected)
            {
#pragma warning disable CA5351 // MD5 is the Blob API's transfer checksum here, not a security measure.
                var actual = MD5.HashData(destination.Span[..read]);
#pragma warning restore CA5351
                if (!actual.AsSpan().SequenceEqual(expected))
                    throw new ArchiveIntegrityException($"Get Blob {name} bytes {offset}-{last}: the range's MD5 does not match the service's; the read was corrupted in transit ({Location}).");
            }
            return read;
        }, cancellationToken);

    /// <summary>Whole Get Blob into <paramref name="destination"/>, checking length and, when the service stores one, the MD5.</summary>
    public Task<long> DownloadAsync(string name, Stream destination, CancellationToken cancellationToken) =>
        RunAsync($"Get Blob {name}", async ct =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, BlobUrl(name));
            using var response = await SendAsync(request, $"Get Blob {name}", HttpCompletionOption.ResponseHeadersRead, ct, HttpStatusCode.OK);
            var announced = response.Content.Headers.ContentLength;
            var storedMd5 = response.Content.Headers.ContentMD5;
            await using var body = await response.Content.ReadAsStreamAsync(ct);
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
            if (announced is { } expectedLength && expectedLength != length)
                throw new ArchiveUnavailableException($"Get Blob {name} ended after {length} of {expectedLength} bytes ({Location}).");
            if (storedMd5 is not null && !md5.GetHashAndReset().AsSpan().SequenceEqual(storedMd5))
                throw new ArchiveIntegrityException($"Get Blob {name}: the downloaded bytes do not match the blob's stored MD5 ({Location}).");
            return length;
        }, cancellationToken);

    /// <summary>Delete Blob; false when it was not there.</summary>
    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken) =>
        RunAsync($"Delete Blob {name}", async ct =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Delete, BlobUrl(name));
            using var response = await SendAsync(request, $"Delete Blob {name}", HttpCompletionOption.ResponseContentRead, ct, HttpStatusCode.Accepted, HttpStatusCode.NotFound);
            return response.StatusCode == HttpStatusCode.Accepted;
        }, cancellationToken);

    /// <summary>List Blobs under <paramref name="prefix"/>, following continuation markers; empty when the container does not exist.</summary>
    public Task<IReadOnlyList<BlobItem>> ListAsync(string prefix, CancellationToken cancellationToken) =>
        RunAsync($"List Blobs {prefix}", async ct =>
        {
            var items = new List<BlobItem>();
            string? marker = null;
            do
            {
                var url = $"{_containerUrl}?restype=container&comp=list&prefix={Uri.EscapeDataString(prefix)}&maxresults=5000";
                if (!string.IsNullOrEmpty(marker))
                    url += "&marker=" + Uri.EscapeDataString(marker);
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                using var response = await SendAsync(request, $"List Blobs {prefix}", HttpCompletionOption.ResponseHeadersRead, ct, HttpStatusCode.OK, HttpStatusCode.NotFound);
                if (response.StatusCode == HttpStatusCode.NotFound)
                    return items;
                await using var body = await response.Content.ReadAsStreamAsync(ct);
                marker = await BlobListing.ReadPageAsync(body, items, ct);
            }
            while (!string.IsNullOrEmpty(marker));
            return (IReadOnlyList<BlobItem>)items;
        }, cancellationToken);

    public void Dispose() => _http.Dispose();

    private string BlobUrl(string name)
    {
        var url = new StringBuilder(_containerUrl);
        foreach (var segment in name.Split('/'))
            url.Append('/').Append(Uri.EscapeDataString(segment));
        return url.ToString();
    }

    private static BlobWrite WriteResult(HttpResponseMessage response) => response.StatusCode switch
    {
        HttpStatusCode.Created => BlobWrite.Created,
        HttpStatusCode.NotFound when ErrorCode(response) == "ContainerNotFound" => BlobWrite.ContainerMissing,
        HttpStatusCode.NotFound => throw new ArchiveException($"The blob service answered 404 {ErrorCode(response)} to a write."),
        _ => BlobWrite.AlreadyExists,
    };

    private static async Task<int> ReadIntoAsync(Stream body, long skip, Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (skip > 0)
        {
            var discard = new byte[(int)Math.Min(skip, 81920)];
            while (skip > 0)
            {
                var skipped = await body.ReadAsync(discard.AsMemory(0, (int)Math.Min(skip, discard.Length)), cancellationToken);
                if (skipped == 0)
                    return 0;
                skip -= skipped;
            }
        }
        var total = 0;
        while (total < destination.Length)
        {
            var read = await body.ReadAsync(destination[total..], cancellationToken);
            if (read == 0)
                break;
            total += read;
        }
        return total;
    }

    /// <summary>
    /// Runs one operation under the request timeout and turns transport failures into archive exceptions.
    /// The caller's own cancellation stays an <see cref="OperationCanceledException"/>.
    /// </summary>
    private async Task<T> RunAsync<T>(string what, Func<CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(_timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            return await operation(linked.Token);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ArchiveUnavailableException($"{what} timed out after {_timeout.TotalSeconds:0.#} s ({Location}).", e);
        }
        catch (HttpRequestException e)
        {
            throw new ArchiveUnavailableException($"{what} failed: {e.Message} ({Location}).", e);
        }
        catch (IOException e)
        {
            throw new ArchiveUnavailableException($"{what} failed while transferring: {e.Message} ({Location}).", e);
        }
        catch (Exception e) when (e is System.Xml.XmlException or FormatException)
        {
            throw new ArchiveException($"{what}: the service's reply is not valid XML: {e.Message} ({Location}).", e);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string what, HttpCompletionOption completion, CancellationToken cancellationToken, params HttpStatusCode[] accepted)
    {
        request.Headers.TryAddWithoutValidation("x-ms-version", BlobArchiveOptions.ApiVersion);
        request.Headers.TryAddWithoutValidation("x-ms-date", _time.GetUtcNow().ToString("R", CultureInfo.InvariantCulture));
        await _authorizer.AuthorizeAsync(request, cancellationToken);
        var response = await _http.SendAsync(request, completion, cancellationToken);
        if (Array.IndexOf(accepted, response.StatusCode) >= 0)
            return response;
        using (response)
            throw await FailureAsync(response, what, cancellationToken);
    }

    private async Task<ArchiveException> FailureAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        var code = ErrorCode(response);
        var message = await ServiceMessageAsync(response, cancellationToken);
        var status = (int)response.StatusCode;
        var detail = $"{what}: {status} {code}{(message is null ? "" : ": " + message)} ({Location}).";
        return response.StatusCode switch
        {
            _ when IsDigestMismatch(response.StatusCode, code, message) =>
                new ArchiveIntegrityException($"{detail} The body was corrupted on the way; nothing was stored."),
            >= HttpStatusCode.InternalServerError or HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests =>
                new ArchiveUnavailableException(detail),
            HttpStatusCode.NotFound => new ArchiveNotFoundException(detail),
            HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized =>
                new ArchiveException($"{detail} Check the account name and key, or the identity's role on the container (Storage Blob Data Contributor)."),
            _ => new ArchiveException(detail),
        };
    }

    /// <summary>
    /// Azure says 400 Md5Mismatch; Azurite 3.35 says 400 InvalidOperation "Provided contentMD5 doesn't match."
    /// Both mean the body was refused and nothing was stored.
    /// </summary>
    private static bool IsDigestMismatch(HttpStatusCode status, string code, string? message) =>
        code is "Md5Mismatch" or "Crc64Mismatch"
        || (status == HttpStatusCode.BadRequest && message is not null
            && message.Contains("MD5", StringComparison.OrdinalIgnoreCase) && message.Contains("match", StringComparison.OrdinalIgnoreCase));

    private static string ErrorCode(HttpResponseMessage response) =>
        response.Headers.TryGetValues("x-ms-error-code", out var values) ? values.FirstOrDefault() ?? "" : "";

    /// <summary>The service's &lt;Message&gt; (first line, at most 300 characters), or null.</summary>
    private static async Task<string?> ServiceMessageAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            var start = text.IndexOf("<Message>", StringComparison.Ordinal);
            var end = text.IndexOf("</Message>", StringComparison.Ordinal);
            if (start < 0 || end <= start)
                return null;
            var message = text[(start + "<Message>".Length)..end];
            var line = message.IndexOf('\n', StringComparison.Ordinal);
            if (line >= 0)
                message = message[..line];
            return message.Length > 300 ? message[..300] : message.Trim();
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
