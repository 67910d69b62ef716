using System.Globalization;
using Microsoft.Extensions.Options;
using OrleansBus.Contracts;
using OrleansBus.Silo.Groups;
using OrleansBus.Silo.Hosting;
using OrleansBus.Silo.Metadata;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Api;

/// <summary>
/// Handlers of the chukcha-compatible routes (<see cref="ChukchaApi"/>). Every request is validated whole before
/// anything is written or acknowledged; writes go through <see cref="ProduceEndpoint"/> itself, so both APIs
/// accept and refuse exactly the same bodies.
/// </summary>
public static partial class ChukchaEndpoints
{
    public static async Task<IResult> WriteAsync(HttpContext http, LogStore store, Replication.Replicator replicator, IGrainFactory grains, IOptions<BusOptions> options)
    {
        var query = http.Request.Query;
        var category = query["category"].ToString();
        if (!CategoryName.IsValid(category))
            return BusErrors.InvalidCategoryName(category);
        // ProduceEndpoint validates the rest exactly as v1 does, min_sync_replicas included (same query name as chukcha's).
        var result = await ProduceEndpoint.HandleAsync(http, category, store, replicator, grains, options);
        if (result is not IValueHttpResult<ProduceResult> { Value: { } produced })
            return result; // a refusal: nothing was written
        // chukcha's client wants 200 and ignores the body, which chukcha leaves empty; the headers say where it landed.
        http.Response.Headers[BusHeaders.Chunk] = produced.Chunk;
        http.Response.Headers[BusHeaders.Offset] = produced.Offset.ToString(CultureInfo.InvariantCulture);
        return Results.Ok();
    }

    public static async Task ReadAsync(HttpContext http, LogStore store, Cluster.ClusterReads reads, IOptions<BusOptions> options)
    {
        var error = ValidateRead(http.Request.Query, options.Value, out var category, out var chunkName, out var offset, out var maxBytes);
        Chunk? chunk = null;
        if (error is null)
            (error, chunk) = await ChunkResponse.LocateAsync(store, reads, category, chunkName, offset, maxBytes, http.RequestAborted);
        if (error is not null)
        {
            await error.ExecuteAsync(http);
            return;
        }
        await ChunkResponse.WriteAsync(http, chunk!, offset, maxBytes);
    }

    public static async Task<IResult> ListChunksAsync(HttpContext http, LogStore store, Cluster.ClusterReads reads, ConsumerGroups groups)
    {
        var category = http.Request.Query["category"].ToString();
        if (!CategoryName.IsValid(category))
            return BusErrors.InvalidCategoryName(category);
        var log = await store.FindOrOpenAsync(category, http.RequestAborted);
        if (log is null)
            return Results.Json(Array.Empty<ChukchaChunk>(), ChukchaJsonContext.Default.ChukchaChunkArray);
        await reads.RefreshAsync(log, TimeSpan.FromMilliseconds(250), http.RequestAborted);
        await reads.CatchUpAllAsync(log, log.Chunks.Where(c => c.State == ChunkStates.Active), static _ => long.MaxValue, http.RequestAborted);
        var chunks = await groups.ChunksNotDoneAsync(log, ConsumerGroups.ChukchaGroup, http.RequestAborted);
        var list = new List<ChukchaChunk>(chunks.Count);
        foreach (var chunk in chunks)
        {
            // State before size: once the state is read as not active, the size read after it is final.
            var state = chunk.State;
            if (state == ChunkStates.Expired)
                continue; // its data is gone
            list.Add(new ChukchaChunk(chunk.Name, Complete: state != ChunkStates.Active, chunk.KnownSize));
        }
        // By name, as chukcha lists its directory: "<owner>-chunk<seq:000000000>" sorts by sequence within an owner.
        list.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return Results.Json(list.ToArray(), ChukchaJsonContext.Default.ChukchaChunkArray);
    }

    public static IResult ListCategories(LogStore store)
    {
        var logs = store.All();
        var names = new string[logs.Count];
        for (var i = 0; i < names.Length; i++)
            names[i] = logs[i].Name;
        return Results.Json(names, ChukchaJsonContext.Default.StringArray);
    }

    private static IResult? ValidateRead(IQueryCollection query, BusOptions limits, out string category, out string chunkName, out long offset, out int maxBytes)
    {
        chunkName = "";
        offset = 0;
        maxBytes = 0;
        category = query["category"].ToString();
        if (!CategoryName.IsValid(category))
            return BusErrors.InvalidCategoryName(category);
        if (ChunkParameter(query, out chunkName) is { } chunkError)
            return chunkError;
        if (RequiredNumber(query, "off", alias: null, max: long.MaxValue, out offset) is { } offsetError)
            return offsetError;
        // Early chukcha clients sent maxSize; the server (web/server.go) and later clients use max_size.
        var maxError = RequiredNumber(query, "max_size", alias: "maxSize", max: limits.MaxReadBytes, out var max);
        if (maxError is not null)
            return maxError;
        if (max < 1)
            return BusErrors.InvalidArgument("max_size", "0", $"an integer from 1 to {limits.MaxReadBytes}");
        maxBytes = (int)max;
        // 404 for a missing category or chunk (LocateAsync) is chukcha's answer too: its client reads it as "not here (yet)".
        return null;
    }

    /// <summary>The required <c>chunk</c> parameter: present (chukcha's rule) and shaped like a chunk name (ours).</summary>
    private static IResult? ChunkParameter(IQueryCollection query, out string chunkName)
    {
        chunkName = query["chunk"].ToString();
        if (chunkName.Length == 0)
            return ChukchaErrors.MissingParameter("chunk", "a chunk name from /listChunks");
        return ChunkName.TryParse(chunkName, out _, out _) ? null : BusErrors.InvalidChunkName(chunkName);
    }

    /// <summary>A required non-negative integer no larger than <paramref name="max"/>, like chukcha's <c>GetUint</c>.</summary>
    private static IResult? RequiredNumber(IQueryCollection query, string name, string? alias, long max, out long value)
    {
        value = 0;
        var text = query[name].ToString();
        if (text.Length == 0 && alias is not null)
            text = query[alias].ToString();
        if (text.Length == 0)
            return ChukchaErrors.MissingParameter(name, $"an integer from 0 to {max}");
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) || value > max)
            return BusErrors.InvalidArgument(name, text, $"an integer from 0 to {max}");
        return null;
    }
}
