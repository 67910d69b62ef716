namespace OrleansBus.Gateway.Routing;

/// <summary>Routing log messages (EventIds 2100–2199).</summary>
internal static partial class Log
{
    [LoggerMessage(2101, LogLevel.Information, "Cluster mode: live silos from Orleans membership (schema {Schema})")]
    public static partial void MembershipMode(ILogger logger, string schema);

    [LoggerMessage(2102, LogLevel.Information, "Silo {SiloId} at {Address} is live")]
    public static partial void SiloLive(ILogger logger, string siloId, string address);

    [LoggerMessage(2103, LogLevel.Information, "Silo {SiloId} at {Address} is not live")]
    public static partial void SiloNotLive(ILogger logger, string siloId, string address);

    [LoggerMessage(2104, LogLevel.Warning, "Cannot ask the cluster for live silos ({Reason}); routing to the {Known} last live silos (minus any that refuse connections) until it answers again")]
    public static partial void MembershipUnreadable(ILogger logger, string reason, int known);

    [LoggerMessage(2105, LogLevel.Information, "The cluster answers again ({Rows} live silos)")]
    public static partial void MembershipReadable(ILogger logger, int rows);

    [LoggerMessage(2106, LogLevel.Warning, "Silo {SiloId} reports an unusable address {Address}; ignoring it")]
    public static partial void BadAddress(ILogger logger, string siloId, string address);

    [LoggerMessage(2107, LogLevel.Error, "Refreshing the silo list failed; keeping the last view")]
    public static partial void RefreshFailed(ILogger logger, Exception exception);

    [LoggerMessage(2108, LogLevel.Information, "Connected to the Orleans cluster (after {Failures} failed attempts)")]
    public static partial void ClusterConnected(ILogger logger, int failures);

    [LoggerMessage(2109, LogLevel.Information, "No silo reachable through Orleans yet ({Reason}); retrying every second")]
    public static partial void ClusterNotYetConnected(ILogger logger, string reason);

    [LoggerMessage(2110, LogLevel.Debug, "The writer set of category {Category} could not be read ({Reason}); routing its produces by the silo list")]
    public static partial void WriterSetUnreadable(ILogger logger, string category, string reason);

    [LoggerMessage(2111, LogLevel.Information, "Silo {SiloId} at {Address} answers again; it takes requests once more")]
    public static partial void SiloAnswersAgain(ILogger logger, string siloId, string address);
}
