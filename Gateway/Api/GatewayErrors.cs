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

    public static IResult SiloUnreachable(IReadOnlyList<string> attempts, bool mayHaveArrived)
    {
        var tried = string.Join(", ", attempts);
        var detail = mayHaveArrived
            ? $"The connection to the silo broke before it answered ({tried}); the request may or may not have taken effect."
            : $"No silo could be reached; tried {tried}. Nothing was forwarded.";
        return Problem(502, BusErrorCodes.SiloUnreachable, "Silo unreachable", detail, tried);
    }

    public static IResult ClusterUnavailable(string what, bool mayHaveTakenEffect)
    {
        var detail = mayHaveTakenEffect
            ? $"The cluster did not answer ({what}); the request may or may not have taken effect; retry."
            : $"The cluster could not serve the request ({what}); nothing was done; retry.";
        return Problem(503, BusErrorCodes.ClusterUnavailable, "Cluster unavailable", detail, what);
    }

    public static IResult NotFound(HttpContext http) =>
        Problem(404, "not_found", "Not found", $"No endpoint at {http.Request.Method} {http.Request.Path}.", http.Request.Path.Value);
}
