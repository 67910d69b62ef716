using System.Collections.Concurrent;
using System.Text;
using Orleans.Serialization.Buffers;
using OrleansBus.Client;
using OrleansBus.Contracts;
using OrleansBus.Contracts.Grains;
using OrleansBus.Testing;

namespace OrleansBus.IntegrationTests.Cluster;

/// <summary>
/// The Orleans client for .NET services, against real silo processes: a separate program that references only Contracts
/// and the Orleans client produces through grains; a REST consumer and an Orleans consumer share one group; bad input
/// through grains gets the HTTP API's codes and writes nothing.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class OrleansClientTests
{
    private const int Messages = 100_000;

    [Fact]
    public async Task A_separate_process_produces_100000_messages_through_grains_and_a_REST_and_an_Orleans_consumer_in_one_group_get_each_exactly_once()
    {
        await using var cluster = await TestCluster.StartAsync("orleans-client", silos: 3);

        var printed = await ExternalCommand.RunAsync("dotnet",
            [RepoPaths.SampleDll("OrleansClientSample"), "--postgres", cluster.ConnectionString, "--schema", TestCluster.Schema,
             "--category", "svc", "--produce", Messages.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            TimeSpan.FromMinutes(3));
        Assert.Contains($"produced {Messages} messages", printed, StringComparison.Ordinal);
        var chunks = await cluster.ChunksAsync(cluster.Silos[0].BaseUrl, "svc");
        Assert.Equal(Messages, chunks.Sum(c => c.Messages));

        await using var orleans = await ClusterClient.ConnectAsync(cluster);
        var viaOrleans = new OrleansBusClient(orleans.Client);
        await using var viaRest = new BusClient(new BusClientOptions { Endpoints = { new Uri(cluster.Silos[1].BaseUrl) } });
        var seen = new ConcurrentDictionary<int, int>();
        var perConsumer = new long[2];
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        async Task ConsumeAsync(IBusClient bus, int index)
        {
            var options = new ConsumeOptions { MaxMessages = 500, WaitTime = TimeSpan.FromMilliseconds(500), ConsumerId = "consumer" + index };
            while (seen.Count < Messages && !deadline.IsCancellationRequested)
            {
                var delivery = await bus.PollAsync("svc", "shared", options, deadline.Token);
                if (delivery is null)
                    continue;
                foreach (var message in delivery.MessageStrings)
                    seen.AddOrUpdate(Number(message), 1, (_, count) => count + 1);
                Interlocked.Add(ref perConsumer[index], delivery.Count);
                await delivery.AckAsync(deadline.Token);
            }
        }
        await Task.WhenAll(ConsumeAsync(viaRest, 0), ConsumeAsync(viaOrleans, 1));

        Assert.Equal(Messages, seen.Count);
        Assert.All(Enumerable.Range(0, Messages), n => Assert.Equal(1, seen.GetValueOrDefault(n)));
        Assert.True(perConsumer[0] > 0 && perConsumer[1] > 0, $"both consumers should share the group: REST {perConsumer[0]}, Orleans {perConsumer[1]}");
        Assert.Equal(Messages, perConsumer[0] + perConsumer[1]);
    }

    [Fact]
    public async Task Bad_input_through_grains_gets_the_HTTP_codes_values_and_limits_and_writes_nothing()
    {
        await using var cluster = await TestCluster.StartAsync("orleans-client-bad", silos: 1);
        await using var orleans = await ClusterClient.ConnectAsync(cluster);
        var door = orleans.Client.GetGrain<IBusEdgeGrain>(0);
        var bus = new OrleansBusClient(orleans.Client);

        var badName = await door.ProduceAsync("Bad Name", Buffer("a\n"), new EdgeProduceOptions(null, 0));
        Assert.Equal((400, BusErrorCodes.InvalidCategoryName, "Bad Name", "128"), (badName.Fault!.Status, badName.Fault.Code, badName.Fault.Value, badName.Fault.Limit));
        var replicas = await door.ProduceAsync("bad-input", Buffer("a\n"), new EdgeProduceOptions(null, 5));
        Assert.Equal((503, BusErrorCodes.NotEnoughReplicas, "5", "0"), (replicas.Fault!.Status, replicas.Fault.Code, replicas.Fault.Value, replicas.Fault.Limit));

        var noNewline = await Assert.ThrowsAsync<BusException>(() => bus.ProduceAsync("bad-input", "a\nb"));
        Assert.Equal((400, BusErrorCodes.MissingTrailingNewline, "2"), (noNewline.Status, noNewline.Code, noNewline.Value));
        var empty = await Assert.ThrowsAsync<BusException>(() => bus.ProduceAsync("bad-input", ""));
        Assert.Equal(BusErrorCodes.EmptyBody, empty.Code);
        var tooLarge = await Assert.ThrowsAsync<BusMessageTooLargeException>(() => bus.ProduceAsync("bad-input", new string('x', 4 * 1024 * 1024 + 1) + "\n"));
        Assert.Equal((413, (4 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture)), (tooLarge.Status, tooLarge.Limit));

        // Nothing of any refused batch was written: the category does not even exist.
        using (var response = await cluster.Http.GetAsync(new Uri($"{cluster.Silos[0].BaseUrl}/v1/categories/bad-input")))
            Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
        var unknown = await Assert.ThrowsAsync<BusNotFoundException>(() => bus.PollAsync("bad-input", "g"));
        Assert.Equal(BusErrorCodes.CategoryNotFound, unknown.Code);

        // A good batch, a poll with a bad argument, a double ack, a bad nack.
        var landed = await bus.ProduceAsync("good-input", "one\ntwo\n", Durability.Fsync);
        Assert.Equal((2, "fsync"), (landed.Messages, landed.Durability));
        var badPoll = await door.PollAsync(new EdgePollRequest("good-input", "g", "c", MaxBytes: 0, null, 0, null, false), CancellationToken.None);
        Assert.Equal((400, BusErrorCodes.InvalidArgument, "0"), (badPoll.Fault!.Status, badPoll.Fault.Code, badPoll.Fault.Value));
        var delivery = await bus.PollAsync("good-input", "g", new ConsumeOptions { WaitTime = TimeSpan.FromSeconds(5) });
        Assert.NotNull(delivery);
        Assert.Equal(["one", "two"], delivery.MessageStrings);
        var badNack = await Assert.ThrowsAsync<BusException>(() => delivery.NackAsync(TimeSpan.FromMilliseconds(-1)));
        Assert.Equal(BusErrorCodes.InvalidArgument, badNack.Code);
        await delivery.AckAsync();
        await Assert.ThrowsAsync<BusLeaseLostException>(() => delivery.AckAsync());
        Assert.Null(await bus.PollAsync("good-input", "g", new ConsumeOptions { WaitTime = TimeSpan.FromMilliseconds(200) }));
    }

    private static PooledBuffer Buffer(string text)
    {
        var buffer = new PooledBuffer();
        buffer.Write(Encoding.UTF8.GetBytes(text));
        return buffer;
    }

    private static int Number(string message)
    {
        var at = message.IndexOf("\"n\":", StringComparison.Ordinal) + 4;
        return int.Parse(message.AsSpan(at, message.Length - at - 1), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Admin_calls_and_min_sync_replicas_through_grains_answer_as_the_REST_client_does()
    {
        await using var cluster = await TestCluster.StartAsync("orleans-client-admin", silos: 3);
        await using var orleans = await ClusterClient.ConnectAsync(cluster);
        var grains = new OrleansBusClient(orleans.Client, new OrleansBusClientOptions { MinSyncReplicas = 1 });
        await using var rest = new BusClient(new BusClientOptions { Endpoints = { new Uri(cluster.Silos[1].BaseUrl) }, MinSyncReplicas = 1 });

        var settings = await grains.PutCategoryAsync("admin", new CategorySettingsUpdate(4096, null, "fsync"));
        Assert.Equal((4096L, "fsync"), (settings.MaxChunkBytes, settings.DefaultDurability));
        Assert.Equal(settings, await rest.GetCategoryAsync("admin"));
        Assert.Contains(settings, await grains.ListCategoriesAsync());

        // min_sync_replicas travels with each produce, on either transport.
        Assert.Equal("replicas:1", (await grains.ProduceAsync("admin", "a\nb\n")).Durability);
        Assert.Equal("replicas:1", (await rest.ProduceAsync("admin", "c\n")).Durability);
        Assert.Equal(await rest.ListChunksAsync("admin"), await grains.ListChunksAsync("admin"));

        var delivery = await grains.PollAsync("admin", "g", new ConsumeOptions { WaitTime = TimeSpan.FromSeconds(5) });
        Assert.NotNull(delivery);
        await delivery.AckAsync();
        var lag = await grains.GetGroupAsync("admin", "g");
        Assert.Equal(3 - delivery.Count, lag.LagMessages);
        Assert.Equal(3, (await grains.SeekAsync("admin", "g", SeekPosition.Earliest)).LagMessages);
        Assert.Equal(3, (await rest.GetGroupAsync("admin", "g")).LagMessages);

        // Refusals are the REST client's typed exceptions, with the same codes, values and limits.
        var tooMany = new OrleansBusClient(orleans.Client, new OrleansBusClientOptions { MinSyncReplicas = 5 });
        var refused = await Assert.ThrowsAsync<BusException>(() => tooMany.ProduceAsync("admin", "d\n"));
        Assert.Equal((503, BusErrorCodes.NotEnoughReplicas, "5"), (refused.Status, refused.Code, refused.Value));
        var badSize = await Assert.ThrowsAsync<BusException>(() => grains.PutCategoryAsync("admin", new CategorySettingsUpdate(10, null, null)));
        Assert.Equal((400, BusErrorCodes.InvalidArgument, "10"), (badSize.Status, badSize.Code, badSize.Value));
        Assert.Equal(4096, (await grains.GetCategoryAsync("admin")).MaxChunkBytes);
        var noGroup = await Assert.ThrowsAsync<BusNotFoundException>(() => grains.GetGroupAsync("admin", "never"));
        Assert.Equal(BusErrorCodes.GroupNotFound, noGroup.Code);
        Assert.Equal(3, (await rest.ListChunksAsync("admin")).Sum(c => c.Messages)); // the refused produce wrote nothing
        var negative = Assert.Throws<ArgumentException>(() => new OrleansBusClient(orleans.Client, new OrleansBusClientOptions { MinSyncReplicas = -1 }));
        Assert.Contains("MinSyncReplicas: -1", negative.Message, StringComparison.Ordinal);
    }
}