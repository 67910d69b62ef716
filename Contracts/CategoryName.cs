namespace OrleansBus.Contracts;

/// <summary>
/// The category (topic) name rule: <c>^[a-z0-9][a-z0-9._-]{0,127}$</c>, and never <c>.</c> or <c>..</c>.
/// A name that passes is safe as a single path segment on every file system and as a blob name prefix,
/// so callers may create folders from it without further escaping.
/// </summary>
public static class CategoryName
{
    /// <summary>The longest allowed name, in characters.</summary>
    public const int MaxLength = 128;

    /// <summary>Returns true when <paramref name="name"/> satisfies the category name rule.</summary>
    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength)
            return false;
        if (name is "." or "..")
            return false;
        if (!IsLowerAlnum(name[0]))
            return false;
        for (var i = 1; i < name.Length; i++)
        {
            var c = name[i];
            if (!IsLowerAlnum(c) && c != '.' && c != '_' && c != '-')
                return false;
        }
        return true;
    }

    /// <summary>Explains why <paramref name="name"/> is invalid, or returns null when it is valid.</summary>
    public static string? Explain(string? name)
    {
        if (string.IsNullOrEmpty(name))
            return "Category name is empty.";
        if (name.Length > MaxLength)
            return $"Category name is {name.Length} characters; limit {MaxLength}.";
        if (!IsValid(name))
            return "Category name must match ^[a-z0-9][a-z0-9._-]{0,127}$ (lower-case letters, digits, '.', '_', '-'; first a letter or digit).";
        return null;
    }

    private static bool IsLowerAlnum(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9');
}
