using Microsoft.AspNetCore.Http.Features;
using OrleansBus.Contracts;

namespace OrleansBus.Silo.Api;

/// <summary>
/// Checks the category name in the raw request target before routing. Kestrel resolves dot segments
/// ("/v1/categories/./chunks" arrives as "/v1/categories/chunks") and routing splits "a/b" into two
/// segments, so a bad name could otherwise reach a different endpoint or a bare 404. The raw target
/// still shows what the client sent: a name that breaks the rule, or one that spans segments, gets the
/// same 400 invalid_category_name as any other bad name, with the name as sent (<see cref="RequestTargetNames"/>).
/// </summary>
public sealed class RawCategoryNameCheck(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext http)
    {
        var raw = http.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw))
            raw = http.Request.PathBase.Add(http.Request.Path).Value ?? "";
        // Groups are judged by the endpoints (ResolveAsync), after the category, as before; only the category here.
        var (badCategory, _) = RequestTargetNames.Check(raw);
        return badCategory is null ? next(http) : BusErrors.InvalidCategoryName(badCategory).ExecuteAsync(http);
    }
}
