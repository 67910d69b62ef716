namespace OrleansBus.Gateway.Hosting;

/// <summary>
/// Configuration section <c>Gateway</c> (<c>--Gateway:PostgresConnectionString=...</c>, env
/// <c>Gateway__PostgresConnectionString</c>). The gateway is an Orleans client of the silos' cluster (ADO.NET clustering
/// on their PostgreSQL; <c>Orleans:ClusterId</c> as the silos'), and Orleans tells it which silos live. Validated at
/// start by <see cref="GatewayOptionsValidator"/>.
/// </summary>
public sealed class GatewayOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Gateway";

    /// <summary>Npgsql connection string of the silos' database (their <c>Bus:PostgresConnectionString</c>). Required.</summary>
    public string? PostgresConnectionString { get; set; }

    /// <summary>Schema of the silos' tables (their <c>Bus:PostgresSchema</c>).</summary>
    public string PostgresSchema { get; set; } = "public";

    /// <summary>How often the cluster is asked for its live silos.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long the cluster may take to name its live silos before the gateway keeps its last view for this round.</summary>
    public TimeSpan DeadAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Longest wait for a TCP connection to a silo. Short, because a connect that hangs is a dead silo and the request
    /// can go to another one; long polls are not bounded by it.
    /// </summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Longest wait for a silo's response headers, beyond a poll's own <c>wait_ms</c>: above the silos' replication
    /// timeout (5 s), so a slow replicated produce is not cut off. A silo that does not answer in time (frozen, say) is
    /// avoided for new requests until it answers a health check again; a poll or an idempotent request without a
    /// consumed body moves to another silo, anything else answers 504 <c>outcome_unknown</c>.
    /// </summary>
    public TimeSpan SiloResponseTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
