using System.Globalization;
using Microsoft.Extensions.Options;
using OrleansBus.Contracts;
using OrleansBus.Silo.Groups;
using OrleansBus.Silo.Hosting;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Api;

/// <summary>Consumer-group routes: poll, ack, nack, status (lag) and seek.</summary>
public static class GroupEndpoints
{
    internal const int DefaultMaxBytes = 1024 * 1024;
    internal const int DefaultMaxMessages = 1000;
    internal const int MaxWaitMs = RequestArguments.MaxWaitMs;
    internal const int MinLeaseMs = RequestArguments.MinLeaseMs;
    internal const int MaxLeaseMs = RequestArguments.MaxLeaseMs;
    internal const int MaxConsumerLength = RequestArguments.MaxConsumerLength;
    internal const int MaxReasonLength = 1000;

    public static async Task PollAsync(HttpContext http, string category, string group, LogStore store, ConsumerGroups groups, IOptions<BusOptions> options)
    {
        var (error, log) = await ResolveAsync(category, group, store, http.RequestAborted);
        var query = http.Request.Query;
        var limits = options.Value;
        var badBytes = Int(query, "max_bytes", DefaultMaxBytes, 1, limits.MaxReadBytes, out var maxBytes);
        var badMessages = Int(query, "max_messages", DefaultMaxMessages, 1, int.MaxValue, out var maxMessages);
        var badWait = Int(query, "wait_ms", 0, 0, MaxWaitMs, out var waitMs);
        var badLease = Int(query, "lease_ms", (int)limits.DefaultLease.TotalMilliseconds, MinLeaseMs, MaxLeaseMs, out var leaseMs);
        error ??= badBytes ?? badMessages ?? badWait ?? badLease;
        var start = query["start"].ToString();
        var consumer = query["consumer"].ToString();
        if (error is null && RequestArguments.CheckStartAndConsumer(start, consumer) is { } badArgument)
            error = BusErrors.Problem(badArgument);
        if (error is not null)
        {
            await error.ExecuteAsync(http);
            return;
        }
        var request = new PollRequest(category, group, consumer.Length == 0 ? "anonymous" : consumer, maxBytes, maxMessages,
            TimeSpan.FromMilliseconds(waitMs), TimeSpan.FromMilliseconds(leaseMs), StartLatest: start == "latest");
        using var delivery = await groups.PollAsync(request, log!, http.RequestAborted);
        if (delivery is null)
        {
            http.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }
        if (WantsJson(http))
        {
            await Results.Json(ToResult(delivery), BusJsonContext.Default.PollResult).ExecuteAsync(http);
            return;
        }
        var headers = http.Response.Headers;
        headers[BusHeaders.Delivery] = delivery.Token;
        headers[BusHeaders.Chunk] = delivery.Chunk;
        headers[BusHeaders.Offset] = delivery.Offset.ToString(CultureInfo.InvariantCulture);
        headers[BusHeaders.NextOffset] = delivery.NextOffset.ToString(CultureInfo.InvariantCulture);
        headers[BusHeaders.LeaseExpires] = delivery.LeaseExpiresAt.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        headers[BusHeaders.DeliveryCount] = delivery.DeliveryCount.ToString(CultureInfo.InvariantCulture);
        http.Response.ContentType = "application/octet-stream";
        http.Response.ContentLength = delivery.Data.Memory.Length;
        await http.Response.Body.WriteAsync(delivery.Data.Memory, http.RequestAborted);
    }

    public static async Task<IResult> AckAsync(HttpContext http, string category, string group, LogStore store, ConsumerGroups groups)
    {
        var (error, log) = await ResolveAsync(category, group, store, http.RequestAborted);
        if (error is not null)
            return error;
        var (body, bodyError) = await ReadBodyAsync(http, BusJsonContext.Default.AckRequest);
        if (bodyError is not null)
            return bodyError;
        if (string.IsNullOrEmpty(body!.Delivery))
            return BusErrors.InvalidArgument("delivery", body.Delivery, "the Bus-Delivery token of a poll");
        var outcome = await groups.AckAsync(log!, group, body.Delivery, body.Offset, http.RequestAborted);
        return Settled(outcome, body.Delivery, body.Offset);
    }

    public static async Task<IResult> NackAsync(HttpContext http, string category, string group, LogStore store, ConsumerGroups groups)
    {
        var (error, log) = await ResolveAsync(category, group, store, http.RequestAborted);
        if (error is not null)
            return error;
        var (body, bodyError) = await ReadBodyAsync(http, BusJsonContext.Default.NackRequest);
        if (bodyError is not null)
            return bodyError;
        if (string.IsNullOrEmpty(body!.Delivery))
            return BusErrors.InvalidArgument("delivery", body.Delivery, "the Bus-Delivery token of a poll");
        if (CheckNack(body.DelayMs, body.Reason) is { } invalid)
            return invalid;
        var outcome = await groups.NackAsync(log!, group, body.Delivery, TimeSpan.FromMilliseconds(body.DelayMs), body.Reason, http.RequestAborted);
        return Settled(outcome, body.Delivery, null);
    }

    /// <summary>The nack arguments' rules, shared with the Orleans clients' door (<see cref="Grains.BusEdgeGrain"/>).</summary>
    internal static IResult? CheckNack(long delayMs, string? reason)
    {
        if (delayMs is < 0 or > MaxLeaseMs)
            return BusErrors.InvalidArgument("delayMs", delayMs.ToString(CultureInfo.InvariantCulture), $"0 to {MaxLeaseMs}");
        if (reason is { Length: > MaxReasonLength })
            return BusErrors.InvalidArgument("reason", reason, $"at most {MaxReasonLength} characters");
        return null;
    }

    /// <summary>An integer argument outside [<paramref name="min"/>, <paramref name="max"/>], as the query parser words it.</summary>
    internal static IResult? Range(string name, int value, int min, int max) =>
        value >= min && value <= max ? null : BusErrors.InvalidArgument(name, value.ToString(CultureInfo.InvariantCulture), $"an integer from {min} to {max}");

    public static Task<IResult> StatusAsync(HttpContext http, string category, string group, LogStore store, ConsumerGroups groups) =>
        GroupStatusAsync(category, group, store, groups, http.RequestAborted);

    /// <summary>The group's lag, or why not (bad names, an unknown category, a group that never polled it).</summary>
    internal static async Task<IResult> GroupStatusAsync(string category, string group, LogStore store, ConsumerGroups groups, CancellationToken cancellationToken)
    {
        var (error, log) = await ResolveAsync(category, group, store, cancellationToken);
        if (error is not null)
            return error;
        var status = await groups.StatusAsync(log!, group, catchUp: true, cancellationToken);
        if (status is null)
            return GroupNotFound(category, group);
        var chunks = new GroupChunkInfo[status.Chunks.Count];
        for (var i = 0; i < chunks.Length; i++)
        {
            var c = status.Chunks[i];
            chunks[i] = new GroupChunkInfo(c.Chunk, c.AckedOffset, c.Size, c.LagBytes, c.LagMessages, c.LeaseConsumer, c.LeaseExpiresAt, c.DeliveryCount);
        }
        return Results.Json(new GroupInfo(group, category, status.LagBytes, status.LagMessages, status.OldestUnackedAgeMs, chunks, status.SkippedByRetention),
            BusJsonContext.Default.GroupInfo);
    }

    public static async Task<IResult> SeekAsync(HttpContext http, string category, string group, LogStore store, ConsumerGroups groups)
    {
        var (error, log) = await ResolveAsync(category, group, store, http.RequestAborted);
        if (error is not null)
            return error;
        var (body, bodyError) = await ReadBodyAsync(http, BusJsonContext.Default.SeekRequest);
        if (bodyError is not null)
            return bodyError;
        return await ApplySeekAsync(category, group, body!, store, groups, http.RequestAborted);
    }

    /// <summary>Applies a seek (earliest, latest or a time, exactly one) and answers the group's lag after it.</summary>
    internal static async Task<IResult> ApplySeekAsync(string category, string group, SeekRequest body, LogStore store, ConsumerGroups groups, CancellationToken cancellationToken)
    {
        var (error, log) = await ResolveAsync(category, group, store, cancellationToken);
        if (error is not null)
            return error;
        SeekTarget target;
        if (body.Time is not null && body.Position is null)
            target = SeekTarget.Time;
        else if (body.Time is null && body.Position == "earliest")
            target = SeekTarget.Earliest;
        else if (body.Time is null && body.Position == "latest")
            target = SeekTarget.Latest;
        else
            return BusErrors.InvalidArgument("position", body.Position, "either \"position\":\"earliest\"|\"latest\" or \"time\":\"<RFC 3339>\"");
        await groups.SeekAsync(log!, group, target, body.Time, cancellationToken);
        return await GroupStatusAsync(category, group, store, groups, cancellationToken);
    }

    /// <summary>
    /// Checks the names and finds the category — also one another silo created in a shared catalog, opened here
    /// empty, since group state lives in the metadata store and any silo may serve (and settle) a group.
    /// </summary>
    internal static async ValueTask<(IResult? Error, CategoryLog? Log)> ResolveAsync(string category, string group, LogStore store, CancellationToken cancellationToken)
    {
        if (!CategoryName.IsValid(category))
            return (BusErrors.InvalidCategoryName(category), null);
        if (!CategoryName.IsValid(group))
            return (BusErrors.InvalidGroupName(group), null);
        if (!store.IsReady)
            return (BusErrors.NotReady(), null);
        var log = await store.FindOrOpenAsync(category, cancellationToken);
        return log is null ? (BusErrors.CategoryNotFound(category), null) : (null, log);
    }

    private static IResult GroupNotFound(string category, string group) =>
        BusErrors.Problem(404, BusErrorCodes.GroupNotFound, "Group not found", $"Group {group} has never polled category {category}.", group);

    internal static IResult Settled(SettleOutcome outcome, string token, long? offset) => outcome switch
    {
        SettleOutcome.Done => Results.NoContent(),
        SettleOutcome.BadOffset => BusErrors.InvalidArgument("offset", offset?.ToString(CultureInfo.InvariantCulture),
            "a message boundary after the acknowledged offset and within the delivery"),
        SettleOutcome.ChunkNotLocal => BusErrors.Problem(503, BusErrorCodes.ChunkNotLocal, "Chunk not on this silo",
            "A partial ack must go to the silo that holds the chunk (the one that served the poll); a whole-delivery ack works on any silo.", token),
        _ => BusErrors.Problem(409, BusErrorCodes.LeaseLost, "Lease lost",
            "The delivery is no longer leased to you: it expired and was redelivered, or was already settled.", token),
    };

    private static async Task<(T? Body, IResult? Error)> ReadBodyAsync<T>(HttpContext http, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        var (body, error) = await RequestBodies.ReadObjectAsync(http.Request.Body, type, http.RequestAborted);
        return (body, error is null ? null : BusErrors.Problem(error));
    }

    /// <summary>Parses an optional integer query value; always assigns <paramref name="value"/> (the fallback when absent or bad).</summary>
    private static IResult? Int(IQueryCollection query, string name, int fallback, int min, int max, out int value) =>
        RequestArguments.WholeNumber(name, query[name].ToString(), fallback, min, max, out value) is { } refusal ? BusErrors.Problem(refusal) : null;

    private static bool WantsJson(HttpContext http) =>
        http.Request.Headers.Accept.ToString().Contains("application/json", StringComparison.OrdinalIgnoreCase);

    private static PollResult ToResult(Delivery delivery)
    {
        var messages = new List<string>(delivery.Messages);
        var span = delivery.Data.Memory.Span;
        while (!span.IsEmpty)
        {
            var newline = span.IndexOf((byte)'\n');
            messages.Add(System.Text.Encoding.UTF8.GetString(span[..newline]));
            span = span[(newline + 1)..];
        }
        return new PollResult(delivery.Token, delivery.Chunk, delivery.Offset, delivery.NextOffset, delivery.LeaseExpiresAt, delivery.DeliveryCount, messages);
    }
}
