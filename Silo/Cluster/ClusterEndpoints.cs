using System.Buffers;
using System.Globalization;
using System.Text.Json.Serialization;
using OrleansBus.Contracts;
using OrleansBus.Silo.Api;
using OrleansBus.Silo.Metadata;
using OrleansBus.Silo.Replication;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Cluster;

/// <summary>
/// The internal silo-to-silo routes under <c>/cluster/v1</c> (not part of the public API; the gateway does not forward
/// them): Orleans membership as this silo sees it, batches of a chunk past a position (what a pulling silo appends to its
/// copy), and replica appends from an owner. A tail is served only from bytes this silo holds, never by asking
/// another silo, so two silos can never bounce a request between them.
/// </summary>
public static class ClusterEndpoints
{
    private const int MaxReplicaBodyBytes = 64 * 1024 * 1024;

    public static void MapClusterApi(this IEndpointRouteBuilder app)
    {
        var cluster = app.MapGroup("/cluster/v1");
        cluster.MapGet("/members", Members);
        cluster.MapGet("/chunks/{category}/{chunk}", TailAsync);
        cluster.MapGet("/chunks/{category}/{chunk}/size", GrowthAsync);
        cluster.MapPost("/replicas/{category}/{chunk}", AppendReplicaAsync);
        cluster.MapGet("/replicas/{category}/{chunk}", ReplicaPosition);
    }

    /// <summary>Orleans' Orleans membership as this silo sees it, one entry per start (generation), sorted by silo id then epoch.</summary>
    private static IResult Members(Membership membership)
    {
        var members = new List<MemberInfo>();
        foreach (var m in membership.Members)
        {
            var state = m.Status switch
            {
                SiloStatus.Active => "live",
                SiloStatus.Dead => "dead",
                _ => m.Status.ToString().ToLowerInvariant(),
            };
            members.Add(new MemberInfo(m.SiloId, m.Self ? membership.Address : m.Address ?? "", m.Epoch, state, m.Self || m.IsLive, m.Self));
        }
        members.Sort(static (a, b) => string.CompareOrdinal(a.Id, b.Id) is var c and not 0 ? c : a.Epoch.CompareTo(b.Epoch));
        return Results.Json(members.ToArray(), ClusterJsonContext.Default.MemberInfoArray);
    }

    private static async Task TailAsync(HttpContext http, string category, string chunk, LogStore store)
    {
        var query = http.Request.Query;
        if (!TryLong(query["offset"], out var offset) || !TryLong(query["index_offset"], out var indexOffset) || !TryLong(query["max_bytes"], out var maxBytes) || maxBytes < 1)
        {
            await BusErrors.InvalidArgument("offset", query["offset"], "offset, index_offset and max_bytes as non-negative integers").ExecuteAsync(http);
            return;
        }
        var target = CategoryName.IsValid(category) ? store.Find(category)?.FindChunk(chunk) : null;
        if (target is null || target.IsRemote || (target.IsForeign && target.Mirror is null))
        {
            await BusErrors.ChunkNotFound(category, chunk).ExecuteAsync(http);
            return;
        }
        // A copy shorter than the caller's position simply has nothing new for it (another source may); an own chunk
        // asked past its end, or off a batch boundary, is a bad request.
        var copyBehind = target.IsForeign && offset >= target.Size;
        using var tail = copyBehind ? null : ChunkTail.Read(target, offset, indexOffset, (int)Math.Min(maxBytes, int.MaxValue / 2));
        if (tail is null && !copyBehind)
        {
            await BusErrors.OffsetOutOfRange(offset, target.Size).ExecuteAsync(http);
            return;
        }
        http.Response.Headers[PeerClient.IndexLengthHeader] = (tail?.IndexLength ?? 0).ToString(CultureInfo.InvariantCulture);
        http.Response.Headers[PeerClient.SizeHeader] = target.Size.ToString(CultureInfo.InvariantCulture);
        http.Response.ContentType = "application/octet-stream";
        http.Response.ContentLength = tail?.Body.Length ?? 0;
        if (tail is not null)
            await http.Response.Body.WriteAsync(tail.Body, http.RequestAborted);
    }

    /// <summary>Longest a growth watch waits here (peers ask again; the HTTP client's timeout is well above it).</summary>
    internal static readonly TimeSpan MaxGrowthWait = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A long poll for another silo's waiting consumers: answers the chunk's size (<c>Bus-Size</c>) once it is above
    /// <c>after</c>, the chunk is no longer active here, or <c>wait_ms</c> (at most <see cref="MaxGrowthWait"/>) passed.
    /// No bytes: the caller pulls them as it always does. This is how data written on one silo wakes a poll on another
    /// without a re-check interval.
    /// </summary>
    private static async Task GrowthAsync(HttpContext http, string category, string chunk, LogStore store)
    {
        var query = http.Request.Query;
        if (!TryLong(query["after"], out var after) || !TryLong(query["wait_ms"], out var waitMs))
        {
            await BusErrors.InvalidArgument("after", query["after"], "after and wait_ms as non-negative integers").ExecuteAsync(http);
            return;
        }
        var log = CategoryName.IsValid(category) ? store.Find(category) : null;
        var target = log?.FindChunk(chunk);
        if (log is null || target is null)
        {
            await BusErrors.ChunkNotFound(category, chunk).ExecuteAsync(http);
            return;
        }
        var wait = TimeSpan.FromMilliseconds(Math.Min(waitMs, MaxGrowthWait.TotalMilliseconds));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        timeout.CancelAfter(wait);
        try
        {
            while (target.Size <= after && target.State == ChunkStates.Active)
            {
                var arrived = log.DataArrived; // every append here signals it, and so does a seal (the catalog's notice)
                if (target.Size > after || target.State != ChunkStates.Active)
                    break;
                await arrived.WaitAsync(timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!http.RequestAborted.IsCancellationRequested)
        {
            // Waited long enough: answer the size as it is.
        }
        http.Response.Headers[PeerClient.SizeHeader] = target.Size.ToString(CultureInfo.InvariantCulture);
        http.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task AppendReplicaAsync(HttpContext http, string category, string chunk, LogStore store)
    {
        var query = http.Request.Query;
        var owner = query["owner"].ToString();
        if (!CategoryName.IsValid(category) || !ChunkName.TryParse(chunk, out var nameOwner, out _) || nameOwner != owner
            || owner == store.SiloId || !TryLong(query["offset"], out var offset) || !TryLong(query["index_offset"], out var indexOffset)
            || !TryLong(query["seq"], out var seq) || !TryLong(query["created"], out var createdMs)
            || !TryLong(http.Request.Headers[PeerClient.IndexLengthHeader], out var indexLength)
            || http.Request.ContentLength is not { } length || length > MaxReplicaBodyBytes || indexLength > length)
        {
            await BusErrors.InvalidArgument("replica", http.Request.QueryString.Value, "owner, offset, index_offset, seq, created, Bus-Index-Length and a Content-Length within 64 MiB").ExecuteAsync(http);
            return;
        }
        var log = await store.FindOrOpenAsync(category, http.RequestAborted);
        if (log is null)
        {
            await BusErrors.CategoryNotFound(category).ExecuteAsync(http);
            return;
        }
        var target = store.GetOrAddForeign(log, chunk, owner, seq, DateTimeOffset.FromUnixTimeMilliseconds(createdMs));
        if (!target.IsForeign)
        {
            await BusErrors.InvalidArgument("chunk", chunk, "a chunk another silo owns").ExecuteAsync(http);
            return;
        }
        var sealedForDeadOwner = target.SealedBy is not null && target.SealedBy != owner;
        var pastFinal = target.FinalSize >= 0 && offset + (length - indexLength) > target.FinalSize;
        if (sealedForDeadOwner || pastFinal)
        {
            // Sealed by a replica while the owner was counted dead (or bytes past a final size): the copy is final and
            // the owner must stop appending. The owner's own seal is no refusal: its last batches may still be on the
            // way when the catalog already says sealed.
            WritePosition(http, target.Mirror?.Position ?? new MirrorPosition(target.Size, 0, target.Messages));
            http.Response.StatusCode = StatusCodes.Status410Gone;
            return;
        }
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Max(1, length));
        try
        {
            await http.Request.Body.ReadExactlyAsync(buffer.AsMemory(0, (int)length), http.RequestAborted);
            var data = buffer.AsMemory(0, (int)(length - indexLength));
            var index = buffer.AsMemory((int)(length - indexLength), (int)indexLength);
            var (appended, position) = await store.MirrorOf(target, log).AppendAsync(offset, indexOffset, data, index, http.RequestAborted);
            WritePosition(http, position);
            http.Response.StatusCode = appended ? StatusCodes.Status200OK : StatusCodes.Status409Conflict;
        }
        catch (InvalidDataException e)
        {
            await BusErrors.InvalidArgument("body", e.Message, "whole batches matching their index entries").ExecuteAsync(http);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static IResult ReplicaPosition(HttpContext http, string category, string chunk, LogStore store)
    {
        var target = CategoryName.IsValid(category) ? store.Find(category)?.FindChunk(chunk) : null;
        if (target?.Mirror is not { } mirror)
            return BusErrors.ChunkNotFound(category, chunk);
        WritePosition(http, mirror.Position);
        return Results.Ok();
    }

    private static void WritePosition(HttpContext http, MirrorPosition position)
    {
        http.Response.Headers[PeerClient.SizeHeader] = position.Size.ToString(CultureInfo.InvariantCulture);
        http.Response.Headers[PeerClient.IndexOffsetHeader] = position.IndexLength.ToString(CultureInfo.InvariantCulture);
        http.Response.Headers[PeerClient.MessagesHeader] = position.Messages.ToString(CultureInfo.InvariantCulture);
    }

    private static bool TryLong(Microsoft.Extensions.Primitives.StringValues text, out long value) =>
        long.TryParse(text.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out value);
}

/// <summary>One silo as <c>GET /cluster/v1/members</c> shows it.</summary>
public sealed record MemberInfo(string Id, string Address, long Epoch, string State, bool Live, bool Self);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(MemberInfo[]))]
internal sealed partial class ClusterJsonContext : JsonSerializerContext;
