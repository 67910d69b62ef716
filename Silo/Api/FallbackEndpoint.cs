using Microsoft.AspNetCore.Http.Features;
using OrleansBus.Contracts;

namespace OrleansBus.Silo.Api;

/// <summary>
/// Requests no route matched. Kestrel resolves dot segments ("/v1/categories/../messages" arrives as
/// "/v1/messages") and routing cannot match an empty or multi-segment name, so a bad category name
/// often lands here: the raw request target still shows it, and the caller gets the same 400 that a
/// matched route gives instead of a bare 404.
/// </summary>
public static class FallbackEndpoint
{
    private const string Prefix = "/v1/categories/";

    public static IResult Handle(HttpContext http)
    {
        var raw = http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? http.Request.Path.Value ?? "";
        var query = raw.IndexOf('?', StringComparison.Ordinal);
        var path = query < 0 ? raw : raw[..query];
        if (path.StartsWith(Prefix, StringComparison.Ordinal))
        {
            var rest = path[Prefix.Length..];
            var end = rest.IndexOf('/', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString(end < 0 ? rest : rest[..end]);
            if (!CategoryName.IsValid(name) || (end >= 0 && rest[(end + 1)..].Contains('/', StringComparison.Ordinal) && !rest.Contains("/chunks/", StringComparison.Ordinal)))
                return BusErrors.InvalidCategoryName(name);
        }
        return BusErrors.Problem(404, "not_found", "Not found", $"No endpoint at {http.Request.Method} {path}.", path);
    }
}
