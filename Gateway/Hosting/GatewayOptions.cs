namespace OrleansBus.Gateway.Hosting;

/// <summary>
/// Configuration section <c>Gateway</c> (<c>--Gateway:Silos=...</c>, env <c>Gateway__Silos</c>). Exactly one way of
/// finding silos is set: <see cref="Silos"/> (static list, probed) or <see cref="PostgresConnectionString"/>
/// (cluster mode: an Orleans client on the silos' ADO.NET clustering; <c>Orleans:ClusterId</c> as the silos'). Validated at start by <see cref="GatewayOptionsValidator"/>.
/// </summary>
public sealed class GatewayOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Gateway";

    /// <summary>Static mode: comma-separated silo base URLs, e.g. <c>http://127.0.0.1:8081,http://127.0.0.1:8082</c>.</summary>
    public string? Silos { get; set; }

    /// <summary>Cluster mode: Npgsql connection string of the silos' database (their <c>Bus:PostgresConnectionString</c>).</summary>
    public string? PostgresConnectionString { get; set; }

    /// <summary>Schema of the silos' tables in cluster mode (their <c>Bus:PostgresSchema</c>).</summary>
    public string PostgresSchema { get; set; } = "public";

    /// <summary>How often the cluster is asked for its live silos, or the static silos are probed.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long the cluster may take to name its live silos before the gateway probes the last known ones itself.</summary>
    public TimeSpan DeadAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Longest wait for a TCP connection to a silo (and for a health probe). Short, because a connect that hangs
    /// is a dead silo and the request can go to another one; long polls are not bounded by it.
    /// </summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The static silo URLs, trimmed, without trailing slashes; empty when <see cref="Silos"/> is unset.</summary>
    public IReadOnlyList<string> SiloUrls()
    {
        if (string.IsNullOrWhiteSpace(Silos))
            return [];
        var urls = new List<string>();
        foreach (var part in Silos.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            urls.Add(part.TrimEnd('/'));
        return urls;
    }
}
