namespace OrleansBus.Gateway.Api;

/// <summary>
/// Headers that describe one connection, not the message (RFC 9110 §7.6.1), so they stop at the gateway;
/// Kestrel and HttpClient frame each hop themselves.
/// </summary>
internal static class HopByHop
{
    private static readonly HashSet<string> Names = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
        "TE", "Trailer", "Transfer-Encoding", "Upgrade",
    };

    public static bool IsHopByHop(string name) => Names.Contains(name);
}
