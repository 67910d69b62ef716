using OrleansBus.Contracts;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Archive;

/// <summary>
/// Checks archive names before they reach a path or a URL. Both rules only admit
/// <c>[a-z0-9._-]</c>, never <c>.</c>/<c>..</c> and never a separator, so a valid pair is a safe
/// two-segment path and needs no escaping in a blob URL.
/// </summary>
internal static class ArchiveNames
{
    public static void Validate(string category, string chunk)
    {
        if (!CategoryName.IsValid(category))
            throw new ArgumentException($"'{category}' is not a valid category name: {CategoryName.Explain(category)}", nameof(category));
        if (!ChunkName.TryParse(chunk, out _, out _))
            throw new ArgumentException($"'{chunk}' is not a chunk name (<owner>-chunk<seq:000000000>).", nameof(chunk));
    }

    public static void ValidateCategory(string category)
    {
        if (!CategoryName.IsValid(category))
            throw new ArgumentException($"'{category}' is not a valid category name: {CategoryName.Explain(category)}", nameof(category));
    }

    public static string Blob(string category, string chunk) => category + "/" + chunk;
}
