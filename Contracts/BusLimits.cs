namespace OrleansBus.Contracts;

/// <summary>Default limits of the public API. A server may be configured lower or higher.</summary>
public static class BusLimits
{
    /// <summary>Largest single message including its terminating newline: 4 MiB.</summary>
    public const int DefaultMaxMessageBytes = 4 * 1024 * 1024;

    /// <summary>Largest produce request body: 16 MiB.</summary>
    public const int DefaultMaxRequestBytes = 16 * 1024 * 1024;

    /// <summary>Largest raw read reply (unless a single message is larger): 16 MiB.</summary>
    public const int DefaultMaxReadBytes = 16 * 1024 * 1024;

    /// <summary>Size at which an active chunk is sealed: 64 MiB.</summary>
    public const long DefaultMaxChunkBytes = 64L * 1024 * 1024;

    /// <summary>Age after which a non-empty active chunk is sealed: 10 minutes.</summary>
    public static readonly TimeSpan DefaultMaxChunkAge = TimeSpan.FromMinutes(10);
}
