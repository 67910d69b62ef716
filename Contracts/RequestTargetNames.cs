namespace OrleansBus.Contracts;

/// <summary>
/// Finds the category and group names in a request target as the client sent it (<c>/v1/categories/{c}/groups/{g}/…</c>).
/// Kestrel resolves dot segments and routing splits "a/b" into two segments, so a bad name could otherwise reach a
/// different endpoint or a bare 404: the raw target still shows what was sent. The name is everything before the longest
/// suffix that is a known route shape, decoded. Silos and the gateway judge names from here alike.
/// </summary>
public static class RequestTargetNames
{
    private const string Prefix = "/v1/categories/";

    // Group names follow the category name rule; this is the rule as error details state it.
    private const string GroupRule = "Group names follow the category name rule: ^[a-z0-9][a-z0-9._-]{0,127}$.";

    /// <summary>
    /// The category named by <paramref name="rawTarget"/> (path and query as sent) when it breaks the rule, else null;
    /// and likewise its group. Targets outside <c>/v1/categories/</c> have neither.
    /// </summary>
    public static (string? BadCategory, string? BadGroup) Check(string rawTarget)
    {
        var query = rawTarget.IndexOf('?', StringComparison.Ordinal);
        var path = query < 0 ? rawTarget : rawTarget[..query];
        if (!path.StartsWith(Prefix, StringComparison.Ordinal))
            return (null, null);
        var segments = path[Prefix.Length..].Split('/');
        for (var nameLength = 1; nameLength <= segments.Length; nameLength++)
        {
            var suffix = segments.AsSpan(nameLength);
            if (!IsRouteSuffix(suffix))
                continue;
            var category = Uri.UnescapeDataString(string.Join('/', segments[..nameLength]));
            if (!CategoryName.IsValid(category))
                return (category, null);
            var group = suffix.Length >= 2 && suffix[0] == "groups" ? Uri.UnescapeDataString(suffix[1]) : null;
            return (null, group is not null && !CategoryName.IsValid(group) ? group : null);
        }
        var whole = Uri.UnescapeDataString(path[Prefix.Length..]);
        return (CategoryName.IsValid(whole) ? null : whole, null);
    }

    /// <summary>The refusal of a bad category name, worded alike whoever refuses it.</summary>
    public static BusProblem InvalidCategoryName(string? name) =>
        BusProblem.Of(400, BusErrorCodes.InvalidCategoryName, "Invalid category name",
            CategoryName.Explain(name) ?? "Invalid category name.", Printable(name), CategoryName.MaxLength);

    /// <summary>The refusal of a bad group name.</summary>
    public static BusProblem InvalidGroupName(string group) =>
        BusProblem.Of(400, BusErrorCodes.InvalidGroupName, "Invalid group name", GroupRule, group, CategoryName.MaxLength);

    /// <summary>Echoes a bad value back safely: control characters escaped, length capped at 300.</summary>
    public static string? Printable(string? value)
    {
        if (value is null)
            return null;
        var capped = value.Length > 300 ? value[..300] + "…" : value;
        var builder = new System.Text.StringBuilder(capped.Length);
        foreach (var c in capped)
        {
            if (char.IsControl(c))
                builder.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            else
                builder.Append(c);
        }
        return builder.ToString();
    }

    private static bool IsRouteSuffix(ReadOnlySpan<string> s) => s switch
    {
        [] => true,
        ["messages"] or ["chunks"] or ["chunks", _] or ["groups", _] => true,
        ["groups", _, "poll" or "ack" or "nack" or "seek"] => true,
        _ => false,
    };
}
