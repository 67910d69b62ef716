using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using OrleansBus.Contracts;
using OrleansBus.Testing;

namespace OrleansBus.Gateway.Tests;

/// <summary>What a produce through the gateway answered.</summary>
internal sealed record Produced(HttpStatusCode Status, string? Silo, ProduceResult? Result, string Body)
{
    /// <summary>The owner part of the chunk name (<c>&lt;owner&gt;-chunk&lt;seq&gt;</c>).</summary>
    public string ChunkOwner => Result is { Chunk: var chunk } ? chunk[..chunk.LastIndexOf("-chunk", StringComparison.Ordinal)] : "(nothing produced)";
}

/// <summary>
/// N real silo processes forming one Orleans cluster on the shared PostgreSQL server (a database of their own, each
/// silo its own data directory) and a gateway process that joins it as an Orleans client, plus an HTTP client for
/// both. Each test class gets its own, so nothing is shared between classes.
/// </summary>
internal sealed class GatewayCluster : IAsyncDisposable
{
    private readonly TempDirectory _dir;

    private GatewayCluster(TempDirectory dir, SiloProcess[] silos, GatewayProcess gateway)
    {
        _dir = dir;
        Silos = silos;
        Gateway = gateway;
    }

    public SiloProcess[] Silos { get; }
    public GatewayProcess Gateway { get; }
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>Settings for silos and a gateway of one cluster in a new database of the shared PostgreSQL server.</summary>
    public static async Task<(Dictionary<string, string> Silo, Dictionary<string, string> Gateway)> NewClusterSettingsAsync(string name)
    {
        var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync($"gw_{name.Replace('-', '_')}_{Guid.NewGuid().ToString("N")[..12]}");
        return (
            new() { ["Metadata"] = "postgres", ["PostgresConnectionString"] = connectionString, ["PostgresSchema"] = "bus" },
            new() { ["PostgresConnectionString"] = connectionString, ["PostgresSchema"] = "bus" });
    }

    /// <summary>Starts <paramref name="siloCount"/> silos, then the gateway, and waits until Orleans has told it all are live.</summary>
    public static async Task<GatewayCluster> StartAsync(string name, int siloCount, Dictionary<string, string>? gatewaySettings = null)
    {
        var dir = new TempDirectory("gw-" + name);
        var (siloSettings, clusterGateway) = await NewClusterSettingsAsync(name);
        var silos = new SiloProcess[siloCount];
        for (var i = 0; i < siloCount; i++)
            silos[i] = new SiloProcess(dir.Combine($"s{i + 1}", "data"), $"s{i + 1}", siloSettings);
        var settings = gatewaySettings ?? [];
        foreach (var (key, value) in clusterGateway)
            settings[key] = value;
        var gateway = new GatewayProcess(dir.Combine("gw", "work"), settings);
        var cluster = new GatewayCluster(dir, silos, gateway);
        try
        {
            await silos[0].StartAsync(); // first: it creates the schema, so the migrations do not race
            await Task.WhenAll(silos.Skip(1).Select(s => s.StartAsync()));
            await gateway.StartAsync();
            await gateway.WaitForLiveSilosAsync(siloCount);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public Uri Url(string pathAndQuery) => new(Gateway.BaseUrl + pathAndQuery);

    public Task<Produced> ProduceAsync(string category, string body, string? key = null) =>
        ProduceAsync(Http, Gateway.BaseUrl, category, Encoding.UTF8.GetBytes(body), key);

    public static async Task<Produced> ProduceAsync(HttpClient http, string baseUrl, string category, byte[] body, string? key = null)
    {
        var query = key is null ? "" : "?key=" + Uri.EscapeDataString(key);
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        using var response = await http.PostAsync(new Uri($"{baseUrl}/v1/categories/{category}/messages{query}"), content);
        var text = await response.Content.ReadAsStringAsync();
        var silo = response.Headers.TryGetValues("Bus-Silo", out var values) ? values.Single() : null;
        var result = response.StatusCode == HttpStatusCode.OK ? JsonSerializer.Deserialize<ProduceResult>(text) : null;
        return new Produced(response.StatusCode, silo, result, text);
    }

    /// <summary>Reads the problem document of a refusal, asserting its content type.</summary>
    public static async Task<BusProblem> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonSerializer.Deserialize<BusProblem>(await response.Content.ReadAsStringAsync());
        Assert.NotNull(problem);
        Assert.Equal((int)response.StatusCode, problem.Status);
        return problem;
    }

    /// <summary>The silo process a <c>Bus-Silo</c> value (its silo id) names.</summary>
    public SiloProcess SiloAt(string? busSilo) =>
        Silos.SingleOrDefault(s => s.SiloId == busSilo) ?? throw new Xunit.Sdk.XunitException($"Bus-Silo '{busSilo}' names none of the silos.");

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Gateway.DisposeAsync();
        foreach (var silo in Silos)
            await silo.DisposeAsync();
        _dir.Dispose();
    }
}

/// <summary>xunit class fixture: one three-silo cluster shared by the tests of a class that never stops a silo.</summary>
public sealed class ThreeSiloClusterFixture : IAsyncLifetime
{
    internal GatewayCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await GatewayCluster.StartAsync("three", 3);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
