using OrleansBus.Contracts;

namespace OrleansBus.Gateway.Api;

/// <summary>
/// The refusals the gateway makes itself, in the silos' problem+json shape (<see cref="BusProblem"/>, same type
/// URIs), so a client cannot tell from the format whether the gateway or a silo answered. Everything else a
/// client sees came from a silo unchanged.
/// </summary>
internal static class GatewayErrors
{
    public static IResult Problem(int status, string code, string title, string detail, object? value = null, object? limit = null) =>
        Problem(BusProblem.Of(status, code, title, detail, value, limit));

    public static IResult Problem(BusProblem problem) =>
        Results.Json(problem, GatewayJsonContext.Default.BusProblem, contentType: "application/problem+json", statusCode: problem.Status);

    public static IResult NoLiveSilo(int known) =>
        Problem(503, BusErrorCodes.NoLiveSilo, "No live silo",
            known == 0
                ? "No silo is live: the gateway knows of no silo yet; retry later."
                : $"No silo is live: none of the {known} known silos answers; retry later.", known);

    /// <summary>No silo could be reached: nothing was forwarded, so a retry is safe.</summary>
    public static IResult SiloUnreachable(IReadOnlyList<string> attempts)
    {
        var tried = string.Join(", ", attempts);
        return Problem(502, BusErrorCodes.SiloUnreachable, "Silo unreachable", $"No silo could be reached; tried {tried}. Nothing was forwarded.", tried);
    }

    /// <summary>The request reached a silo (or left as a grain call) and no answer came back: it may have taken effect.</summary>
    public static IResult OutcomeUnknown(string what) =>
        Problem(504, BusErrorCodes.OutcomeUnknown, "Outcome unknown",
            $"The request reached the cluster, but no answer came back ({what}); it may or may not have taken effect.", what);

    /// <summary>The cluster could not take a grain call (no silo ran it): nothing was done, retry later.</summary>
    public static IResult ClusterUnavailable(string what) =>
        Problem(503, BusErrorCodes.ClusterUnavailable, "Cluster unavailable", $"The cluster could not serve the request ({what}); nothing was done; retry.", what);

    public static IResult NotFound(HttpContext http) =>
        Problem(404, "not_found", "Not found", $"No endpoint at {http.Request.Method} {http.Request.Path}.", http.Request.Path.Value);
}
