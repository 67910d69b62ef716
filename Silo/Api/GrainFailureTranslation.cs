using OrleansBus.Contracts;
using OrleansBus.Contracts.Grains;

namespace OrleansBus.Silo.Api;

/// <summary>
/// The one place a failed grain call becomes an HTTP answer: a grain pinned to a silo that is not active answers 503
/// <c>silo_unavailable</c>, and a call that timed out or lost its silo mid-way answers 503 <c>cluster_unavailable</c>,
/// a metadata database outage (catalog or group state; a PostgreSQL restart) answers 503 <c>metadata_unavailable</c>, all
/// with <c>Retry-After</c> (the cluster heals within seconds: a dead silo is declared dead in about 2 s); a write the
/// category grain refused because the category is being deleted answers 409 <c>category_deleting</c>. Never a 500
/// with an Orleans stack trace. Runs before routing, so it covers every endpoint; a reply already under way is left as it
/// is (the client sees a broken response, which it must treat as a failure).
/// </summary>
public sealed partial class GrainFailureTranslation(RequestDelegate next, ILogger<GrainFailureTranslation> logger)
{
    public async Task InvokeAsync(HttpContext http)
    {
        try
        {
            await next(http);
        }
        catch (Exception e) when (!http.Response.HasStarted && Translate(e) is { } problem)
        {
            if (CategoryDeletingException.Find(e) is null)
            {
                Log.GrainCallFailed(logger, e, http.Request.Method, http.Request.Path);
                http.Response.Headers.RetryAfter = "1";
            }
            await problem.ExecuteAsync(http);
        }
    }

    internal static IResult? Translate(Exception e) => e switch
    {
        // First: the store wraps it in its own exception, which would read as an outage below.
        _ when CategoryDeletingException.Find(e) is { } deleting => BusErrors.CategoryDeleting(deleting.Category),
        PinnedSiloUnavailableException pinned => BusErrors.Problem(503, BusErrorCodes.SiloUnavailable, "Silo unavailable",
            pinned.Message, pinned.Silo),
        TimeoutException or Orleans.Runtime.SiloUnavailableException or OrleansMessageRejectionException =>
            BusErrors.Problem(503, BusErrorCodes.ClusterUnavailable, "Cluster unavailable",
                "The cluster could not complete the request in time (a silo went away or is overloaded); retry."),
        Archive.ArchiveNotFoundException => BusErrors.Problem(503, BusErrorCodes.ArchiveMissing, "Archive missing",
            "An archived chunk this request needs is gone from the archive and no local copy is left; an operator was alerted."),
        _ when IsMetadataOutage(e) => BusErrors.Problem(503, BusErrorCodes.MetadataUnavailable, "Metadata unavailable",
            "The metadata database could not be reached or ended the connection (a restart?); nothing was acknowledged; retry."),
        _ => null,
    };

    // The store's exception, here or from inside a grain: wrapped by the grain's own error, or arriving from another silo as
    // Orleans' stand-in for an exception type it did not rebuild.
    private static bool IsMetadataOutage(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is Metadata.MetadataStoreException
                || (e is Orleans.Serialization.UnavailableExceptionFallbackException fallback
                    && fallback.ExceptionType?.Contains(nameof(Metadata.MetadataStoreException), StringComparison.Ordinal) == true))
            {
                return true;
            }
        }
        return false;
    }

    private static partial class Log
    {
        [LoggerMessage(1201, LogLevel.Warning, "{Method} {Path}: a grain call or a dependency failed; answered 503")]
        public static partial void GrainCallFailed(ILogger logger, Exception exception, string method, string path);
    }
}
