// OrleansBus through an Orleans client: produce N messages through grains, then consume them in a group.
//   cluster (the AppHost's or any ADO.NET-clustered one):
//     dotnet run --project samples/OrleansClientSample -- --postgres "Host=127.0.0.1;Port=5432;Username=postgres;Database=orleansbus" --produce 10000 --consume 10000
//   embedded silo started with a fixed gateway port (dotnet run --project Silo -- --Orleans:Endpoints:GatewayPort=30000):
//     dotnet run --project samples/OrleansClientSample -- --gateway-port 30000 --produce 10000 --consume 10000
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;
using OrleansBus.Client;

var settings = SampleArgs.Parse(args);
if (settings is null)
{
    Console.Error.WriteLine("usage: OrleansClientSample (--postgres CONNECTION [--schema public] | --gateway-port PORT) [--category sample] [--group sample] [--produce N] [--consume N] [--message-bytes 40] [--cluster-id orleansbus]");
    return 2;
}

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
builder.UseOrleansClient(client =>
{
    if (settings.Postgres is { } postgres)
    {
        // The silos' membership rows live in the bus's schema: the search path makes Orleans' table names resolve there.
        var connection = new NpgsqlConnectionStringBuilder(postgres) { SearchPath = $"\"{settings.Schema}\"" }.ConnectionString;
        client.UseAdoNetClustering(o =>
        {
            o.Invariant = "Npgsql";
            o.ConnectionString = connection;
        });
        client.Configure<ClusterOptions>(o => o.ClusterId = o.ServiceId = settings.ClusterId);
    }
    else
    {
        client.UseLocalhostClustering(settings.GatewayPort, serviceId: "orleansbus", clusterId: settings.ClusterId);
    }
});
builder.Services.AddOrleansBus(o => o.Producer.MaxBatchBytes = 1024 * 1024);
using var host = builder.Build();
await host.StartAsync();
var bus = host.Services.GetRequiredService<IBusClient>();

var clock = Stopwatch.StartNew();
if (settings.Produce > 0)
{
    await using (var producer = bus.CreateProducer(settings.Category))
    {
        var padding = new string('x', Math.Max(0, settings.MessageBytes - 40)); // --message-bytes: roughly that size each
        for (var i = 0; i < settings.Produce; i++)
            await producer.SendAsync($"{{\"sample\":\"orleans\",\"pad\":\"{padding}\",\"n\":{i}}}");
        await producer.FlushAsync();
        Console.WriteLine($"produced {producer.AcknowledgedMessages} messages in {producer.AcknowledgedBatches} batches through grains, "
            + $"{clock.Elapsed.TotalSeconds:0.00} s, {producer.AcknowledgedBytes / 1048576.0 / clock.Elapsed.TotalSeconds:0.0} MiB/s");
    }
}

if (settings.Consume > 0)
{
    clock.Restart();
    var received = 0L;
    var bytes = 0L;
    using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2)); // a sample must end by itself
    var options = new ConsumeOptions { WaitTime = TimeSpan.FromSeconds(2), AutoAck = true };
    try
    {
        await foreach (var delivery in bus.ConsumeAsync(settings.Category, settings.Group, options, stop.Token))
        {
            received += delivery.Count;
            bytes += delivery.Body.Length;
            if (received >= settings.Consume)
            {
                await delivery.AckAsync();
                break;
            }
        }
    }
    catch (OperationCanceledException) when (stop.IsCancellationRequested)
    {
        Console.Error.WriteLine($"gave up after 2 minutes with {received} of {settings.Consume} messages");
    }
    Console.WriteLine($"consumed {received} messages in group {settings.Group}, {clock.Elapsed.TotalSeconds:0.00} s, {bytes / 1048576.0 / clock.Elapsed.TotalSeconds:0.0} MiB/s");
    if (received < settings.Consume)
        return 1;
}
await host.StopAsync();
return 0;

internal sealed record SampleArgs(string? Postgres, string Schema, int GatewayPort, string ClusterId, string Category, string Group, long Produce, long Consume, int MessageBytes)
{
    public static SampleArgs? Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
                return null;
            values[args[i][2..]] = args[i + 1];
        }
        if (args.Length % 2 != 0)
            return null;
        var postgres = values.GetValueOrDefault("postgres");
        var port = int.TryParse(values.GetValueOrDefault("gateway-port"), out var p) ? p : 0;
        if ((postgres is null) == (port == 0))
            return null;
        return new SampleArgs(postgres, values.GetValueOrDefault("schema", "public"), port, values.GetValueOrDefault("cluster-id", "orleansbus"),
            values.GetValueOrDefault("category", "sample"), values.GetValueOrDefault("group", "sample"),
            long.Parse(values.GetValueOrDefault("produce", "1000"), System.Globalization.CultureInfo.InvariantCulture),
            long.Parse(values.GetValueOrDefault("consume", "0"), System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(values.GetValueOrDefault("message-bytes", "40"), System.Globalization.CultureInfo.InvariantCulture));
    }
}
