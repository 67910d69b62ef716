using Microsoft.Extensions.Logging;

namespace OrleansBus.Silo.Archive;

/// <summary>Archive log events (EventIds 3001–3099). Never logs payloads or credentials.</summary>
internal static partial class Log
{
    [LoggerMessage(3001, LogLevel.Information, "Archived {Category}/{Chunk} ({Length} bytes, sha256 {Hash}) in {Location}")]
    public static partial void Archived(ILogger logger, string category, string chunk, long length, string hash, string location);

    [LoggerMessage(3002, LogLevel.Information, "{Category}/{Chunk} was already archived with the same {Length} bytes in {Location}")]
    public static partial void AlreadyArchived(ILogger logger, string category, string chunk, long length, string location);

    [LoggerMessage(3003, LogLevel.Error, "Archive conflict for {Category}/{Chunk} in {Location}: {Detail}. The stored copy was kept")]
    public static partial void Conflict(ILogger logger, string category, string chunk, string location, string detail);

    [LoggerMessage(3004, LogLevel.Information, "Deleted {Category}/{Chunk} from {Location}")]
    public static partial void Deleted(ILogger logger, string category, string chunk, string location);

    [LoggerMessage(3005, LogLevel.Information, "Created blob container {Location}")]
    public static partial void ContainerCreated(ILogger logger, string location);

    [LoggerMessage(3006, LogLevel.Warning, "Removed {Count} abandoned partial uploads from {Path}")]
    public static partial void PartialsRemoved(ILogger logger, int count, string path);

    [LoggerMessage(3007, LogLevel.Warning, "Could not remove the partial upload {Path}")]
    public static partial void PartialNotRemoved(ILogger logger, Exception exception, string path);
}
