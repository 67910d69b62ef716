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
    public string ChunkOwner => Result!.Chunk[..Result.Chunk.LastIndexOf("-chunk", StringComparison.Ordinal)];
}

/// <summary>
/// N real silo processes (SQLite metadata, each its own data directory) and a gateway process in static mode in
/// front of them, plus an HTTP client for both. Each test class gets its own, so nothing is shared between classes.
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

    /// <summary>Starts <paramref name="siloCount"/> silos, then the gateway listing them, and waits until all are live there.</summary>
    public static async Task<GatewayCluster> StartAsync(string name, int siloCount, Dictionary<string, string>? gatewaySettings = null)
    {
        var dir = new TempDirectory("gw-" + name);
        var silos = new SiloProcess[siloCount];
        for (var i = 0; i < siloCount; i++)
            silos[i] = new SiloProcess(dir.Combine($"s{i + 1}", "data"), $"s{i + 1}");
        var settings = gatewaySettings ?? [];
        settings["Silos"] = string.Join(',', silos.Select(s => s.BaseUrl));
        var gateway = new GatewayProcess(dir.Combine("gw", "work"), settings);
        var cluster = new GatewayCluster(dir, silos, gateway);
        try
        {
            await Task.WhenAll(silos.Select(s => s.StartAsync()));
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

    /// <summary>The silo process a <c>Bus-Silo</c> value names (static mode: its base URL).</summary>
    public SiloProcess SiloAt(string? busSilo) =>
        Silos.SingleOrDefault(s => s.BaseUrl == busSilo) ?? throw new Xunit.Sdk.XunitException($"Bus-Silo '{busSilo}' names none of the silos.");

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
