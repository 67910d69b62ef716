// OrleansBus over REST: produce N messages with a batching producer, then consume them in a group.
//   dotnet run --project samples/RestClientSample -- http://127.0.0.1:8080 10000
// (a silo, the gateway, or several comma-separated: the client fails over between them)
using System.Diagnostics;
using OrleansBus.Client;

if (args.Length is < 1 or > 4)
{
    Console.Error.WriteLine("usage: RestClientSample ENDPOINT[,ENDPOINT...] [MESSAGES=1000] [CATEGORY=sample] [GROUP=sample]");
    return 2;
}
var options = new BusClientOptions();
foreach (var endpoint in args[0].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
    options.Endpoints.Add(new Uri(endpoint));
var count = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1000;
var category = args.Length > 2 ? args[2] : "sample";
var group = args.Length > 3 ? args[3] : "sample";

await using var bus = new BusClient(options);
var clock = Stopwatch.StartNew();
await using (var producer = bus.CreateProducer(category))
{
    for (var i = 0; i < count; i++)
        await producer.SendAsync($"{{\"sample\":\"rest\",\"n\":{i}}}");
    await producer.FlushAsync();
    Console.WriteLine($"produced {producer.AcknowledgedMessages} messages in {producer.AcknowledgedBatches} batches over REST, {clock.Elapsed.TotalSeconds:0.00} s");
}

clock.Restart();
var received = 0L;
using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2)); // a sample must end by itself
try
{
    await foreach (var delivery in bus.ConsumeAsync(category, group, new ConsumeOptions { WaitTime = TimeSpan.FromSeconds(2), AutoAck = true }, stop.Token))
    {
        received += delivery.Count;
        if (received >= count)
        {
            await delivery.AckAsync();
            break;
        }
    }
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    Console.Error.WriteLine($"gave up after 2 minutes with {received} of {count} messages");
}
Console.WriteLine($"consumed {received} messages in group {group}, {clock.Elapsed.TotalSeconds:0.00} s");
return received >= count ? 0 : 1;
