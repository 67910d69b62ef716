namespace OrleansBus.Contracts.Grains;

/// <summary>
/// Grain keys, built and parsed here only. Category names and silo ids never contain '/' (see <see cref="CategoryName"/>
/// and <c>Bus:SiloId</c>), so the last '/' separates the parts unambiguously.
/// </summary>
public static class GrainKeys
{
    /// <summary>The per-silo chunk writer of a category: <c>{category}/{silo}</c>, pinned to that silo.</summary>
    public static string ChunkWriter(string category, string silo) => string.Concat(category, "/", silo);

    /// <summary>A consumer group of a category: <c>{category}/{group}</c> (group names never contain '/' either).</summary>
    public static string ConsumerGroup(string category, string group) => string.Concat(category, "/", group);

    /// <summary>The category and group of a <see cref="ConsumerGroup"/> key.</summary>
    public static (string Category, string Group) SplitConsumerGroup(string key)
    {
        var slash = key.LastIndexOf('/');
        return (key[..slash], key[(slash + 1)..]);
    }

    /// <summary>The info grain of a silo: <c>silo/{silo}</c>, pinned to that silo.</summary>
    public static string SiloInfo(string silo) => string.Concat("silo/", silo);

    /// <summary>The silo a pinned grain's key names (the part after the last '/'), or null when the key has none.</summary>
    public static string? PinnedSilo(string key)
    {
        var slash = key.LastIndexOf('/');
        return slash <= 0 || slash == key.Length - 1 ? null : key[(slash + 1)..];
    }

    /// <summary>The category part of a <see cref="ChunkWriter"/> key.</summary>
    public static string CategoryOf(string key)
    {
        var slash = key.LastIndexOf('/');
        return slash <= 0 ? key : key[..slash];
    }
}
