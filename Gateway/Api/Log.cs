namespace OrleansBus.Gateway.Api;

/// <summary>Forwarding log messages (EventIds 2200–2299). Never logs bodies.</summary>
internal static partial class Log
{
    [LoggerMessage(2200, LogLevel.Warning, "Could not connect to silo {SiloId} at {Address} ({Reason}); marked not live until a refresh sees it again")]
    public static partial void ConnectFailed(ILogger logger, string siloId, string address, string reason);

    [LoggerMessage(2201, LogLevel.Warning, "Connection to silo {SiloId} at {Address} broke before it answered {Method} {Path} ({Reason})")]
    public static partial void ConnectionBroke(ILogger logger, string siloId, string address, string method, string path, string reason);

    [LoggerMessage(2202, LogLevel.Debug, "Silo {SiloId} is not ready for {Method} {Path}; trying another")]
    public static partial void SiloNotReady(ILogger logger, string siloId, string method, string path);

    [LoggerMessage(2203, LogLevel.Warning, "Silo {SiloId} broke off its response to {Method} {Path} ({Reason}); cut the client connection")]
    public static partial void ResponseBroke(ILogger logger, string siloId, string method, string path, string reason);

    [LoggerMessage(2204, LogLevel.Information, "The client's body for {Method} {Path} could not be read; dropped the request")]
    public static partial void ClientBodyFailed(ILogger logger, string method, string path, Exception exception);

    [LoggerMessage(2205, LogLevel.Warning, "Silo {SiloId} at {Address} did not answer {Method} {Path} within {TimeoutMs} ms (not answering health checks either: {Frozen}; if so, no new request goes there until it does)")]
    public static partial void SiloDidNotAnswer(ILogger logger, string siloId, string address, string method, string path, long timeoutMs, bool frozen);
}
