namespace OrleansBus.Silo.Api;

/// <summary>Requests no route matched: a problem+json 404 like every other error (bad category names are caught earlier, by <see cref="RawCategoryNameCheck"/>).</summary>
public static class FallbackEndpoint
{
    public static IResult Handle(HttpContext http) =>
        BusErrors.Problem(404, "not_found", "Not found", $"No endpoint at {http.Request.Method} {http.Request.Path}.", http.Request.Path.Value);
}
