using OrleansBus.Contracts;

namespace OrleansBus.Silo.Api;

/// <summary>
/// The one error catalogue: every refusal the API makes, as application/problem+json with a stable code,
/// the value and the limit. Endpoints return these; nothing else writes an error body.
/// </summary>
public static class BusErrors
{
    public static IResult Problem(int status, string code, string title, string detail, object? value = null, object? limit = null) =>
        Problem(BusProblem.Of(status, code, title, detail, value, limit));

    public static IResult Problem(BusProblem problem) =>
        Results.Json(problem, BusJsonContext.Default.BusProblem, contentType: "application/problem+json", statusCode: problem.Status);

    public static IResult InvalidCategoryName(string? name) => Problem(RequestTargetNames.InvalidCategoryName(name));

    public static IResult InvalidGroupName(string group) => Problem(RequestTargetNames.InvalidGroupName(group));

    public static IResult InvalidChunkName(string? name) =>
        Problem(400, BusErrorCodes.InvalidChunkName, "Invalid chunk name",
            "Chunk names look like <owner>-chunk<seq:000000000>.", RequestTargetNames.Printable(name));

    public static IResult InvalidArgument(string parameter, string? value, string rule) => Problem(RequestBodies.InvalidArgument(parameter, value, rule));

    public static IResult CategoryNotFound(string name) =>
        Problem(404, BusErrorCodes.CategoryNotFound, "Category not found", $"Category {name} does not exist.", name);

    public static IResult CategoryDeleting(string name) =>
        Problem(409, BusErrorCodes.CategoryDeleting, "Category being deleted",
            $"Category {name} is being deleted; nothing was written. It can be created again once GET /v1/categories/{name} answers 404.", name);

    public static IResult ChunkNotFound(string category, string chunk) =>
        Problem(404, BusErrorCodes.ChunkNotFound, "Chunk not found", $"Chunk {chunk} does not exist in category {category}.", chunk);

    public static IResult OffsetOutOfRange(long offset, long size) =>
        Problem(416, BusErrorCodes.OffsetOutOfRange, "Offset out of range", $"Offset {offset} is beyond the chunk's readable size {size}.", offset, size);

    public static IResult ChunkExpired(string category, string chunk) =>
        Problem(410, BusErrorCodes.ChunkExpired, "Chunk expired", $"Chunk {chunk} of {category} was deleted by the category's retention.", chunk);

    public static IResult ChunkCorrupt(string chunk, string? reason) =>
        Problem(503, BusErrorCodes.ChunkCorrupt, "Chunk corrupt", $"Chunk {chunk} is quarantined: {reason}.", chunk);

    public static IResult EmptyBody() =>
        Problem(400, BusErrorCodes.EmptyBody, "Empty body", "The body holds no message; send newline-terminated messages.", 0, 1);

    public static IResult MissingTrailingNewline(long messageNumber) =>
        Problem(400, BusErrorCodes.MissingTrailingNewline, "Missing trailing newline",
            $"Message {messageNumber} does not end with a newline; every message must.", messageNumber);

    public static IResult MessageTooLarge(long messageNumber, long bytes, int limit) =>
        Problem(413, BusErrorCodes.MessageTooLarge, "Message too large",
            $"Message {messageNumber} is over {limit} bytes (at least {bytes} read); limit {limit}.", bytes, limit);

    public static IResult RequestTooLarge(long bytes, int limit) =>
        Problem(413, BusErrorCodes.RequestTooLarge, "Request too large",
            $"The body is {bytes} bytes or more; limit {limit}.", bytes, limit);

    public static IResult DiskFull(string detail) =>
        Problem(507, BusErrorCodes.DiskFull, "Insufficient storage", detail + " Nothing of the request was kept.");

    public static IResult NotEnoughReplicas(long requested, long available) =>
        Problem(503, BusErrorCodes.NotEnoughReplicas, "Not enough replicas",
            $"min_sync_replicas={requested} cannot be met: {available} replicas are available now (ReplicationFactor - 1, capped by the live peers). Nothing was written.",
            requested, available);

    public static IResult ReplicationTimeout(string category, string chunk, long offset, int held, int requested, TimeSpan timeout) =>
        Problem(504, BusErrorCodes.ReplicationTimeout, "Replication timed out",
            $"The batch was written to {category}/{chunk} at offset {offset}, but only {held} of {requested} replicas held it within {timeout.TotalMilliseconds:0} ms. " +
            "It may still be replicated; a retry may duplicate it (delivery is at-least-once).", held, requested);

    public static IResult ArchiveUnavailable(string category, string chunk) =>
        Problem(503, BusErrorCodes.ArchiveUnavailable, "Archive unavailable",
            $"Chunk {chunk} of {category} is archived and the archive cannot be reached; retry later.", chunk);

    public static IResult ArchiveMissing(string category, string chunk) =>
        Problem(503, BusErrorCodes.ArchiveMissing, "Archive missing",
            $"Chunk {chunk} of {category} is archived, but the archive no longer holds it and no local copy is left; an operator was alerted (log and orleansbus.archive.missing).", chunk);

    public static IResult SiloFenced(string category, string chunk, long offset) =>
        Problem(503, BusErrorCodes.SiloFenced, "Silo fenced",
            $"The batch was written to {category}/{chunk} at offset {offset}, but this silo could not confirm it is still a cluster member, so it is not acknowledged; retry (it may be kept twice).", chunk);

    public static IResult NotReady() =>
        Problem(503, BusErrorCodes.NotReady, "Not ready", "The silo is starting or stopping.");

    /// <summary>Readiness failed: <paramref name="failing"/> names each failed check (<c>name: why</c>).</summary>
    public static IResult NotReady(string failing) =>
        Problem(503, BusErrorCodes.NotReady, "Not ready", $"Not ready to serve: {failing}.", failing);

    public static IResult Internal(string detail) =>
        Problem(500, BusErrorCodes.Internal, "Internal error", detail);

    /// <summary>
    /// The problem an error result carries, as a <see cref="Contracts.Grains.BusFault"/> for a grain reply (the Orleans
    /// clients' door answers with the same catalogue as HTTP).
    /// </summary>
    public static Contracts.Grains.BusFault ToFault(IResult result) => result is IValueHttpResult<BusProblem> { Value: { } problem }
        ? new Contracts.Grains.BusFault(problem.Status, problem.Code, problem.Detail, Text(problem.Value), Text(problem.Limit), problem.Title)
        : new Contracts.Grains.BusFault(500, BusErrorCodes.Internal, "The request failed with an unexpected answer.", null, null, "Internal error");

    /// <summary>An endpoint's answer as a grain reply: its JSON value, or the refusal it made.</summary>
    public static Contracts.Grains.EdgeReply<T> ToReply<T>(IResult result, string silo) => result is IValueHttpResult<T> { Value: { } value }
        ? new Contracts.Grains.EdgeReply<T>(null, value, silo)
        : new Contracts.Grains.EdgeReply<T>(ToFault(result), default, silo);

    private static string? Text(object? value) => value switch
    {
        null => null,
        IFormattable formattable => formattable.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };
}
