using OrleansBus.Contracts;
using OrleansBus.Contracts.Grains;

namespace OrleansBus.Silo.Api;

/// <summary>
/// The one place a failed grain call becomes an HTTP answer: a grain pinned to a silo that is not active answers 503
/// <c>silo_unavailable</c>, and a call that timed out or lost its silo mid-way answers 503 <c>cluster_unavailable</c>,
/// both with <c>Retry-After</c> (the cluster heals within seconds: a dead silo is declared dead in about 2 s). Never a 500
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
            Log.GrainCallFailed(logger, e, http.Request.Method, http.Request.Path);
            http.Response.Headers.RetryAfter = "1";
            await problem.ExecuteAsync(http);
        }
    }

    internal static IResult? Translate(Exception e) => e switch
    {
        PinnedSiloUnavailableException pinned => BusErrors.Problem(503, BusErrorCodes.SiloUnavailable, "Silo unavailable",
            pinned.Message, pinned.Silo),
        TimeoutException or Orleans.Runtime.SiloUnavailableException or OrleansMessageRejectionException =>
            BusErrors.Problem(503, BusErrorCodes.ClusterUnavailable, "Cluster unavailable",
                "The cluster could not complete the request in time (a silo went away or is overloaded); retry."),
        _ => null,
    };

    private static partial class Log
    {
        [LoggerMessage(1201, LogLevel.Warning, "{Method} {Path}: a grain call failed; answered 503")]
        public static partial void GrainCallFailed(ILogger logger, Exception exception, string method, string path);
    }
}
