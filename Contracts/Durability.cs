namespace OrleansBus.Contracts;

/// <summary>What a produce waits for before it is acknowledged.</summary>
public enum Durability
{
    /// <summary>Acknowledged once the bytes are in the operating system's page cache (survives a process crash).</summary>
    PageCache,

    /// <summary>Acknowledged after an fdatasync covering the batch (survives power loss).</summary>
    Fsync,
}

/// <summary>Wire names of <see cref="Durability"/> values.</summary>
public static class DurabilityNames
{
    /// <summary>Wire name of <see cref="Durability.PageCache"/>.</summary>
    public const string PageCache = "page-cache";

    /// <summary>Wire name of <see cref="Durability.Fsync"/>.</summary>
    public const string Fsync = "fsync";

    /// <summary>Returns the wire name of a durability level.</summary>
    public static string ToWire(this Durability durability) =>
        durability == Durability.Fsync ? Fsync : PageCache;

    /// <summary>Parses a wire name; returns false for anything unknown.</summary>
    public static bool TryParse(string? value, out Durability durability)
    {
        switch (value)
        {
            case PageCache:
                durability = Durability.PageCache;
                return true;
            case Fsync:
                durability = Durability.Fsync;
                return true;
            default:
                durability = default;
                return false;
        }
    }
}
