using System.Buffers;
using System.Globalization;
using System.Net;
using OrleansBus.Silo.Replication;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Cluster;

/// <summary>
/// Silo-to-silo HTTP (the internal <c>/cluster/v1</c> routes): pull a chunk's batches past a position, push batches to a
/// replica, ask a replica what it holds. One pooled HttpClient; a peer that cannot be reached or answers oddly gives
/// null, and the caller tries another source or later. Thread safe.
/// </summary>
public sealed class PeerClient : IDisposable
{
    public const string IndexLengthHeader = "Bus-Index-Length";
    public const string SizeHeader = "Bus-Size";
    public const string IndexOffsetHeader = "Bus-Index-Offset";
    public const string MessagesHeader = "Bus-Messages";

    /// <summary>Longest a replica push may take: 4 MiB on a healthy peer takes milliseconds.</summary>
    public static readonly TimeSpan PushTimeout = TimeSpan.FromSeconds(5);

    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        UseProxy = false,
        ConnectTimeout = TimeSpan.FromSeconds(2),
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        AutomaticDecompression = DecompressionMethods.None,
    })
    { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Batches of the chunk after (offset, indexOffset) as <paramref name="address"/> holds them; null when it cannot serve them.</summary>
    internal async Task<ChunkTail?> PullAsync(string address, string category, string chunk, long offset, long indexOffset, int maxBytes, CancellationToken cancellationToken)
    {
        var uri = $"{address}/cluster/v1/chunks/{category}/{chunk}?offset={offset}&index_offset={indexOffset}&max_bytes={maxBytes}";
        try
        {
            using var response = await _http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (response.StatusCode != HttpStatusCode.OK || !TryHeader(response, IndexLengthHeader, out var indexLength))
                return null;
            var length = response.Content.Headers.ContentLength ?? -1;
            if (length < indexLength || length > int.MaxValue)
                return null;
            var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Max(1, length));
            try
            {
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                await body.ReadExactlyAsync(buffer.AsMemory(0, (int)length), cancellationToken);
                return new ChunkTail(buffer, (int)(length - indexLength), (int)indexLength);
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw;
            }
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>
    /// Waits (up to <paramref name="wait"/>, bounded by the peer) until <paramref name="address"/> holds more than
    /// <paramref name="after"/> bytes of the chunk or stops appending to it; its size then, or null when it cannot say.
    /// </summary>
    internal async Task<long?> WaitForGrowthAsync(string address, string category, string chunk, long after, TimeSpan wait, CancellationToken cancellationToken)
    {
        var uri = $"{address}/cluster/v1/chunks/{category}/{chunk}/size?after={after}&wait_ms={(long)wait.TotalMilliseconds}";
        try
        {
            using var response = await _http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            return response.IsSuccessStatusCode && TryHeader(response, SizeHeader, out var size) ? size : null;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>
    /// Sends batches to a replica; returns what the replica holds afterwards (also when it refused a position), null when
    /// unreachable; <c>Gone</c> when the replica's copy was sealed (the owner had been counted dead).
    /// </summary>
    internal async Task<PushResult> PushAsync(string address, Chunk chunk, long offset, long indexOffset, ChunkTail tail, CancellationToken cancellationToken)
    {
        var uri = $"{address}/cluster/v1/replicas/{chunk.Category}/{chunk.Name}?offset={offset}&index_offset={indexOffset}"
            + $"&owner={chunk.Owner}&seq={chunk.Seq}&created={chunk.CreatedAt.ToUnixTimeMilliseconds()}";
        using var content = new ReadOnlyMemoryContent(tail.Body);
        content.Headers.TryAddWithoutValidation(IndexLengthHeader, tail.IndexLength.ToString(CultureInfo.InvariantCulture));
        // A frozen peer accepts the connection and never answers: give up well before the HttpClient's 30 s, so the send
        // loop looks at membership again (and replaces the peer once Orleans declares it dead).
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(PushTimeout);
        try
        {
            using var response = await _http.PostAsync(uri, content, deadline.Token);
            return response.StatusCode switch
            {
                HttpStatusCode.OK or HttpStatusCode.Conflict => new PushResult(ReadPosition(response), Gone: false, Refused: false),
                HttpStatusCode.Gone => new PushResult(ReadPosition(response), Gone: true, Refused: false),
                _ => default,
            };
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError && !cancellationToken.IsCancellationRequested)
        {
            return new PushResult(null, Gone: false, Refused: true); // nothing listens there any more
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return default;
        }
    }

    /// <summary>What a replica holds of a chunk; null when it is unreachable or holds nothing.</summary>
    internal async Task<MirrorPosition?> ReplicaPositionAsync(string address, string category, string chunk, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync($"{address}/cluster/v1/replicas/{category}/{chunk}", cancellationToken);
            return response.StatusCode == HttpStatusCode.OK ? ReadPosition(response) : null;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private static MirrorPosition? ReadPosition(HttpResponseMessage response) =>
        TryHeader(response, SizeHeader, out var size) && TryHeader(response, IndexOffsetHeader, out var index) && TryHeader(response, MessagesHeader, out var messages)
            ? new MirrorPosition(size, index, messages)
            : null;

    private static bool TryHeader(HttpResponseMessage response, string name, out long value)
    {
        value = 0;
        return (response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values))
            && long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>
/// A push's outcome: what the replica now holds (null when it could not say), whether it sealed the chunk meanwhile
/// (<see cref="Gone"/>), and whether the connection was refused (<see cref="Refused"/>: the peer's process is gone).
/// </summary>
internal readonly record struct PushResult(MirrorPosition? Position, bool Gone, bool Refused);
