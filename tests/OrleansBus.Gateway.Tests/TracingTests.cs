using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using OrleansBus.Client;
using OrleansBus.Gateway.Api;
using OrleansBus.Gateway.Hosting;
using OrleansBus.ServiceDefaults;
using OrleansBus.Silo.Api;
using OrleansBus.Silo.Hosting;
using OrleansBus.Testing;

namespace OrleansBus.Gateway.Tests;

/// <summary>
/// A produce from the .NET client through the gateway is one trace: the client's producer span, its HTTP request, the
/// gateway's request, the gateway's request to the silo, the silo's request and the writer's append, each under the one
/// before. Gateway and silo run in this process (a real Orleans silo and client on PostgreSQL, real HTTP on loopback),
/// so one in-memory listener sees every span.
/// </summary>
public sealed class TracingTests : IDisposable
{
    private readonly ConcurrentBag<Activity> _stopped = [];
    private readonly ActivityListener _listener = new()
    {
        ShouldListenTo = source => source.Name is ServiceDefaultsExtensions.TelemetryName or "Microsoft.AspNetCore" or "System.Net.Http",
        Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
    };

    public TracingTests()
    {
        _listener.ActivityStopped = _stopped.Add;
        ActivitySource.AddActivityListener(_listener);
    }

    [Fact]
    public async Task A_produce_through_the_gateway_is_one_trace_from_the_client_to_the_silos_writer()
    {
        using var dir = new TempDirectory("gw-trace");
        var (siloSettings, gatewaySettings) = await GatewayCluster.NewClusterSettingsAsync("trace");
        var siloUrl = $"http://127.0.0.1:{FreePort.Get()}";
        var gatewayUrl = $"http://127.0.0.1:{FreePort.Get()}";
        var silo = siloSettings.ToDictionary(p => "Bus:" + p.Key, p => (string?)p.Value);
        silo["Bus:DataDir"] = dir.Combine("silo");
        silo["Bus:SiloId"] = "s1";
        silo["urls"] = siloUrl;
        var gateway = gatewaySettings.ToDictionary(p => "Gateway:" + p.Key, p => (string?)p.Value);
        gateway["urls"] = gatewayUrl;

        await using var siloHost = await StartAsync(dir.Combine("silo-root"), silo, b => b.AddBusSilo(), app => app.UseBusSilo());
        await using var gatewayHost = await StartAsync(dir.Combine("gateway-root"), gateway, b => b.AddBusGateway(), app => app.MapGateway());
        using var http = new HttpClient();
        await WaitForReadyAsync(http, gatewayUrl);

        var options = new BusClientOptions();
        options.Endpoints.Add(new Uri(gatewayUrl));
        using var client = new BusClient(options);
        var category = "traced-" + Guid.NewGuid().ToString("N")[..8];
        await client.ProduceAsync(category, "one\n");

        var produce = await StoppedAsync(a => a.OperationName == "orleansbus.produce" && Equals(a.GetTagItem("orleansbus.category"), category));
        var append = await StoppedAsync(a => a.OperationName == "orleansbus.append" && Equals(a.GetTagItem("orleansbus.category"), category));
        Assert.Equal(produce.TraceId, append.TraceId);
        var trace = _stopped.Where(a => a.TraceId == produce.TraceId).ToDictionary(a => a.SpanId);
        var chain = new List<Activity> { append };
        while (chain[^1] != produce && trace.TryGetValue(chain[^1].ParentSpanId, out var parent))
            chain.Add(parent);
        Assert.Equal(
            ["OrleansBus orleansbus.append", "Microsoft.AspNetCore server", "System.Net.Http client", "Microsoft.AspNetCore server", "System.Net.Http client", "OrleansBus orleansbus.produce"],
            chain.Select(a => a.Source.Name + " " + (a.Source.Name == ServiceDefaultsExtensions.TelemetryName ? a.OperationName : a.Kind.ToString().ToLowerInvariant())));

        // Stopped as a host stops them, before they are disposed: the silo seals its chunk while Orleans still runs.
        await gatewayHost.StopAsync();
        await siloHost.StopAsync();
    }

    private async Task<Activity> StoppedAsync(Func<Activity, bool> match)
    {
        for (var i = 0; i < 100; i++)
        {
            if (_stopped.FirstOrDefault(match) is { } found)
                return found;
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException($"No such span among {_stopped.Count}: {string.Join(", ", _stopped.Select(a => a.Source.Name + "/" + a.OperationName))}");
    }

    private static async Task WaitForReadyAsync(HttpClient http, string gatewayUrl)
    {
        for (var i = 0; i < 300; i++)
        {
            using var ready = await http.GetAsync(new Uri(gatewayUrl + "/health/ready"));
            if (ready.IsSuccessStatusCode)
                return;
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException("The in-process gateway never saw the in-process silo live.");
    }

    private static async Task<WebApplication> StartAsync(string contentRoot, Dictionary<string, string?> settings,
        Action<WebApplicationBuilder> services, Action<WebApplication> pipeline)
    {
        Directory.CreateDirectory(contentRoot);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = contentRoot });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        services(builder);
        builder.AddServiceDefaults();
        var app = builder.Build();
        pipeline(app);
        await app.StartAsync();
        return app;
    }

    public void Dispose() => _listener.Dispose();
}
