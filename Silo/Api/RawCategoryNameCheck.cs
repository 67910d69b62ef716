using Microsoft.AspNetCore.Http.Features;
using OrleansBus.Contracts;

namespace OrleansBus.Silo.Api;

/// <summary>
/// Checks the category name in the raw request target before routing. Kestrel resolves dot segments
/// ("/v1/categories/./chunks" arrives as "/v1/categories/chunks") and routing splits "a/b" into two
/// segments, so a bad name could otherwise reach a different endpoint or a bare 404. The raw target
/// still shows what the client sent: a name that breaks the rule, or one that spans segments, gets the
/// same 400 invalid_category_name as any other bad name, with the name as sent.
/// </summary>
public sealed class RawCategoryNameCheck(RequestDelegate next)
{
    private const string Prefix = "/v1/categories/";

    public Task InvokeAsync(HttpContext http)
    {
        var raw = http.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw))
            raw = http.Request.PathBase.Add(http.Request.Path).Value ?? "";
        var query = raw.IndexOf('?', StringComparison.Ordinal);
        var path = query < 0 ? raw : raw[..query];
        if (!path.StartsWith(Prefix, StringComparison.Ordinal))
            return next(http);
        var name = CategoryPart(path[Prefix.Length..]);
        if (CategoryName.IsValid(name))
            return next(http);
        return BusErrors.InvalidCategoryName(name).ExecuteAsync(http);
    }

    /// <summary>The decoded name: everything before the longest suffix that is a known route shape.</summary>
    private static string CategoryPart(string rest)
    {
        var segments = rest.Split('/');
        for (var nameLength = 1; nameLength <= segments.Length; nameLength++)
        {
            if (IsRouteSuffix(segments.AsSpan(nameLength)))
                return Uri.UnescapeDataString(string.Join('/', segments[..nameLength]));
        }
        return Uri.UnescapeDataString(rest);
    }

    private static bool IsRouteSuffix(ReadOnlySpan<string> s) => s switch
    {
        [] => true,
        ["messages"] or ["chunks"] or ["chunks", _] or ["groups", _] => true,
        ["groups", _, "poll" or "ack" or "nack" or "seek"] => true,
        _ => false,
    };
}
