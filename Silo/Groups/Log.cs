using Microsoft.Extensions.Logging;

namespace OrleansBus.Silo.Groups;

/// <summary>Consumer-group log events. Never logs payloads.</summary>
internal static partial class Log
{
    [LoggerMessage(2001, LogLevel.Debug, "Group {Group} leased {Category}/{Chunk} [{Offset}, {End}) to {Consumer}, delivery {Count}")]
    public static partial void Leased(ILogger logger, string group, string category, string chunk, long offset, long end, string consumer, int count);

    [LoggerMessage(2002, LogLevel.Warning, "Group {Group} dead-lettered the message at {Category}/{Chunk}@{Offset} after {Deliveries} deliveries")]
    public static partial void DeadLettered(ILogger logger, string group, string category, string chunk, long offset, int deliveries);

    [LoggerMessage(2003, LogLevel.Error, "Category {Category} has no valid dead-letter name (too long); its poison messages stay in place")]
    public static partial void DeadLetterNameInvalid(ILogger logger, string category);

    [LoggerMessage(2004, LogLevel.Warning, "Group {Group} skipped {Messages} unacknowledged messages of {Category}/{Chunk}: retention expired the chunk")]
    public static partial void SkippedByRetention(ILogger logger, string group, string category, string chunk, long messages);
}
