using System.Globalization;

namespace OrleansBus.Silo.Storage;

/// <summary>
/// Chunk names are <c>&lt;owner&gt;-chunk&lt;seq:000000000&gt;</c>. The owner never contains "-chunk"
/// followed by digits only, so the last "-chunk" splits the name unambiguously.
/// </summary>
public static class ChunkName
{
    private const string Separator = "-chunk";

    public static string Format(string owner, long seq) =>
        string.Create(CultureInfo.InvariantCulture, $"{owner}{Separator}{seq:000000000}");

    /// <summary>True when <paramref name="name"/> has the chunk name shape; a name that passes is a safe file name.</summary>
    public static bool TryParse(string? name, out string owner, out long seq)
    {
        owner = "";
        seq = -1;
        if (string.IsNullOrEmpty(name) || name.Length > 200)
            return false;
        var at = name.LastIndexOf(Separator, StringComparison.Ordinal);
        if (at <= 0)
            return false;
        var digits = name.AsSpan(at + Separator.Length);
        if (digits.Length < 9)
            return false;
        foreach (var c in digits)
        {
            if (c is < '0' or > '9')
                return false;
        }
        var ownerPart = name[..at];
        foreach (var c in ownerPart)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
                return false;
        }
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out seq))
            return false;
        owner = ownerPart;
        return true;
    }
}
