using System.Globalization;
using System.Net;
using System.Text;
using OrleansBus.Testing;

namespace OrleansBus.IntegrationTests.Groups;

/// <summary>
/// Two silo processes on one PostgreSQL database and schema serve one consumer group. Each silo writes its own
/// chunks and serves every chunk (the other's through a copy it pulls); the group's state, and so the leases, live
/// in the shared database: the consumers of both silos together must see every message once.
/// </summary>
public sealed class TwoSiloGroupTests
{
    private const int MessagesPerSilo = 600;

    [Fact]
    public async Task A_delivery_polled_from_one_silo_can_be_acknowledged_through_the_other_and_its_group_served_there()
    {
        using var dir = new TempDirectory("groups2-ack");
        var settings = await GroupSilo.MetadataSettingsAsync(MetadataBackend.Postgres);
        await using var first = await GroupSilo.StartAsync(dir.Combine("sa", "data"), "sa", settings);
        await using var second = await GroupSilo.StartAsync(dir.Combine("sb", "data"), "sb", settings);
        await first.Api.ProduceAsync("only-a", "m-1\nm-2\nm-3\n");

        // sb never wrote only-a, but the category and the group are in the shared catalog: its group routes work.
        var polled = await first.Api.PollAsync("only-a", "g", new PollQuery(MaxMessages: 2));
        Assert.NotNull(polled);
        var status = await second.Api.StatusAsync("only-a", "g"); // 200 with the group, not 404 category_not_found
        Assert.Equal(("g", "only-a"), (status.Group, status.Category));
        // A partial ack is checked against the bytes: sb pulls them from sa, the owner, to do so.
        var partial = await second.Api.AckAsync("only-a", "g", polled.Token, offset: 4);
        Assert.Equal(HttpStatusCode.NoContent, partial.Status);
        Assert.Equal(2, (await first.Api.StatusAsync("only-a", "g")).LagMessages); // m-2 still leased, m-3 never polled
        var whole = await second.Api.AckAsync("only-a", "g", polled.Token);
        Assert.Equal(HttpStatusCode.NoContent, whole.Status);
        Assert.Equal(HttpStatusCode.Conflict, (await first.Api.AckAsync("only-a", "g", polled.Token)).Status); // settled once

        var rest = await first.Api.PollAsync("only-a", "g", new PollQuery());
        Assert.Equal(["m-3"], rest!.Messages);
    }

    [Fact]
    public async Task A_silo_prefers_chunks_it_holds_but_never_starves_one_held_elsewhere()
    {
        using var dir = new TempDirectory("groups2-fair");
        // No replication: sb's chunk is not on sa until sa pulls it.
        var settings = await GroupSilo.MetadataSettingsAsync(MetadataBackend.Postgres, ("ReplicationFactor", "1"));
        await using var first = await GroupSilo.StartAsync(dir.Combine("sa", "data"), "sa", settings);
        await using var second = await GroupSilo.StartAsync(dir.Combine("sb", "data"), "sb", settings);
        // sa can pull from sb only once it knows sb's HTTP address (a second or so after sb joined); the loop below takes
        // less than that, so without this wait it ran before sa could reach sb at all (a flake, half the runs).
        await WaitUntilLiveAsync(first, "sb");
        await second.Api.ProduceAsync("fair", "elsewhere-1\nelsewhere-2\n"); // sb's chunk: the oldest, not held by sa
        await first.Api.ProduceAsync("fair", "here-0\n");

        // One consumer polls sa only, one message at a time, while sa's own chunk never runs dry: sa serves what it
        // holds first, yet sb's chunk still gets its turn (every fourth poll keeps plain oldest-first order).
        var delivered = new List<string>();
        for (var poll = 0; poll < 24 && !delivered.Contains("elsewhere-2"); poll++)
        {
            await first.Api.ProduceAsync("fair", $"here-{poll + 1}\n");
            var polled = await first.Api.PollAsync("fair", "g", new PollQuery(MaxMessages: 1));
            Assert.NotNull(polled);
            delivered.AddRange(polled.Messages);
            Assert.Equal(HttpStatusCode.NoContent, (await first.Api.AckAsync("fair", "g", polled.Token)).Status);
        }
        Assert.True(delivered.Contains("elsewhere-1") && delivered.Contains("elsewhere-2"), $"sb's messages were starved: {string.Join(", ", delivered)}");
        Assert.StartsWith("here-", delivered[0], StringComparison.Ordinal); // the first poll took what sa holds
    }

    /// <summary>Waits until <paramref name="observer"/>'s <c>/cluster/v1/members</c> shows <paramref name="siloId"/> live, with its address.</summary>
    private static async Task WaitUntilLiveAsync(GroupSilo observer, string siloId)
    {
        using var http = new HttpClient();
        var seen = "";
        for (var attempt = 0; attempt < 100; attempt++)
        {
            seen = await http.GetStringAsync(new Uri(observer.Process.BaseUrl + "/cluster/v1/members"));
            using var members = System.Text.Json.JsonDocument.Parse(seen);
            if (members.RootElement.EnumerateArray().Any(m => m.GetProperty("id").GetString() == siloId && m.GetProperty("live").GetBoolean()))
                return;
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException($"{observer.Process.SiloId} never saw {siloId} live within 10 s: {seen}");
    }

    [Fact]
    public async Task Two_silos_on_one_database_serve_one_group_without_handing_a_range_to_two_consumers()
    {
        using var dir = new TempDirectory("groups2");
        var settings = await GroupSilo.MetadataSettingsAsync(MetadataBackend.Postgres, ("MaxChunkBytes", "1024"));
        await using var first = await GroupSilo.StartAsync(dir.Combine("sa", "data"), "sa", settings);
        await using var second = await GroupSilo.StartAsync(dir.Combine("sb", "data"), "sb", settings);

        var produced = (await Task.WhenAll(ProduceAsync(first.Api, "a"), ProduceAsync(second.Api, "b"))).SelectMany(m => m).ToList();
        // Either silo lists both silos' chunks.
        var chunks = await first.Api.ChunksAsync("shared");
        Assert.Equal(chunks.Select(c => c.Name).Order(), (await second.Api.ChunksAsync("shared")).Select(c => c.Name).Order());
        var chunksA = chunks.Count(c => c.Owner == "sa");
        var chunksB = chunks.Count(c => c.Owner == "sb");
        Assert.True(chunksA > 5 && chunksB > 5, $"Too few chunks to spread the work: {chunksA} of sa, {chunksB} of sb.");

        var ledger = new DeliveryLedger();
        var timeout = TimeSpan.FromSeconds(90);
        await Task.WhenAll(
            Task.Run(() => ledger.ConsumeUntilDrainedAsync(first.Api, "shared", "workers", "sa-c1", seed: 1, timeout)),
            Task.Run(() => ledger.ConsumeUntilDrainedAsync(first.Api, "shared", "workers", "sa-c2", seed: 2, timeout)),
            Task.Run(() => ledger.ConsumeUntilDrainedAsync(second.Api, "shared", "workers", "sb-c1", seed: 3, timeout)),
            Task.Run(() => ledger.ConsumeUntilDrainedAsync(second.Api, "shared", "workers", "sb-c2", seed: 4, timeout)));

        Assert.Equal(0, (await first.Api.StatusAsync("shared", "workers")).LagMessages);
        Assert.Equal(0, (await second.Api.StatusAsync("shared", "workers")).LagMessages);
        ledger.AssertEveryMessageAcknowledgedExactlyOnce(produced);
        ledger.AssertChunksAcknowledgedInOrder(await first.Api.ChunksAsync("shared"));
    }

    [Fact]
    public async Task Lag_through_either_silo_counts_the_messages_of_both()
    {
        using var dir = new TempDirectory("groups2-lag");
        var settings = await GroupSilo.MetadataSettingsAsync(MetadataBackend.Postgres);
        await using var first = await GroupSilo.StartAsync(dir.Combine("sa", "data"), "sa", settings);
        await using var second = await GroupSilo.StartAsync(dir.Combine("sb", "data"), "sb", settings);
        await first.Api.ProduceAsync("lagged", "a-1\na-2\na-3\n");
        await second.Api.ProduceAsync("lagged", "b-1\nb-2\n");

        // Neither silo has read the other's chunk yet: lag still counts it, with the owner's current size.
        var onFirst = await first.Api.SeekAsync("lagged", "fresh", "earliest"); // creates the group
        var onSecond = await second.Api.StatusAsync("lagged", "fresh");
        Assert.Equal((5L, 20L), (onFirst.LagMessages, onFirst.LagBytes));
        Assert.Equal((5L, 20L), (onSecond.LagMessages, onSecond.LagBytes));
    }

    [Fact]
    public async Task Start_latest_through_one_silo_skips_the_data_that_already_exists_on_the_other()
    {
        using var dir = new TempDirectory("groups2");
        var settings = await GroupSilo.MetadataSettingsAsync(MetadataBackend.Postgres);
        await using var first = await GroupSilo.StartAsync(dir.Combine("sa", "data"), "sa", settings);
        await using var second = await GroupSilo.StartAsync(dir.Combine("sb", "data"), "sb", settings);
        await first.Api.ProduceAsync("clicks", "old-a\n");
        await second.Api.ProduceAsync("clicks", "old-b\n");

        // The group is created at latest through sa; it must not start at the beginning of sb's data either.
        Assert.Null(await first.Api.PollAsync("clicks", "tail", new PollQuery(Start: "latest")));
        var onSecond = await second.Api.PollAsync("clicks", "tail", new PollQuery(Start: "latest"));
        Assert.True(onSecond is null,
            $"A group created at latest was handed {string.Join(", ", onSecond?.Messages ?? [])} through sb, data produced before the group existed.");
        Assert.Equal(0, (await second.Api.StatusAsync("clicks", "tail")).LagMessages);
    }

    [Fact]
    public async Task Seek_to_earliest_through_one_silo_rewinds_the_group_on_the_other_silo_too()
    {
        using var dir = new TempDirectory("groups2");
        var settings = await GroupSilo.MetadataSettingsAsync(MetadataBackend.Postgres);
        await using var first = await GroupSilo.StartAsync(dir.Combine("sa", "data"), "sa", settings);
        await using var second = await GroupSilo.StartAsync(dir.Combine("sb", "data"), "sb", settings);
        await first.Api.ProduceAsync("audit", "a-1\na-2\n");
        await second.Api.ProduceAsync("audit", "b-1\nb-2\n");
        // Drain the group, alternating silos: each poll leases one chunk's range, from either silo's chunks.
        for (var i = 0; i < 2; i++)
        {
            var api = i == 0 ? first.Api : second.Api;
            var all = await api.PollAsync("audit", "replay", new PollQuery());
            Assert.Equal(HttpStatusCode.NoContent, (await api.AckAsync("audit", "replay", all!.Token)).Status);
        }
        Assert.Equal(0, (await first.Api.StatusAsync("audit", "replay")).LagMessages);
        Assert.Equal(0, (await second.Api.StatusAsync("audit", "replay")).LagMessages);

        // The group is one group in the shared database: a seek through sa moves all of it.
        Assert.Equal(4, (await first.Api.SeekAsync("audit", "replay", "earliest")).LagMessages);
        var lagOnSecond = (await second.Api.StatusAsync("audit", "replay")).LagMessages;
        Assert.True(lagOnSecond == 4, $"After a seek to earliest through sa, the group had lag {lagOnSecond} (not 4) on sb.");
        var again = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var polled = await second.Api.PollAsync("audit", "replay", new PollQuery());
            again.AddRange(polled?.Messages ?? []);
        }
        Assert.Equal(["a-1", "a-2", "b-1", "b-2"], again.Order());
    }

    [Fact]
    public async Task A_seek_through_a_silo_that_never_served_the_category_rewinds_chunks_it_has_not_seen_yet()
    {
        using var dir = new TempDirectory("groups2");
        var settings = await GroupSilo.MetadataSettingsAsync(MetadataBackend.Postgres);
        await using var first = await GroupSilo.StartAsync(dir.Combine("sa", "data"), "sa", settings);
        await using var second = await GroupSilo.StartAsync(dir.Combine("sb", "data"), "sb", settings);
        await first.Api.ProduceAsync("ledger", "l-1\nl-2\nl-3\n");
        var all = await first.Api.PollAsync("ledger", "audit", new PollQuery());
        Assert.Equal(HttpStatusCode.NoContent, (await first.Api.AckAsync("ledger", "audit", all!.Token)).Status);
        Assert.Equal(0, (await first.Api.StatusAsync("ledger", "audit")).LagMessages);

        // sb has neither written nor served "ledger": the seek is its first request for it, and sa's chunk is not known
        // there yet. The seek must still rewind that chunk, and its answer must say so.
        Assert.Equal(3, (await second.Api.SeekAsync("ledger", "audit", "earliest")).LagMessages);
        Assert.Equal(3, (await first.Api.StatusAsync("ledger", "audit")).LagMessages);
        Assert.Equal(["l-1", "l-2", "l-3"], (await second.Api.PollAsync("ledger", "audit", new PollQuery()))!.Messages);
    }

    private static async Task<List<string>> ProduceAsync(GroupApi api, string prefix)
    {
        var all = new List<string>(MessagesPerSilo);
        for (var first = 0; first < MessagesPerSilo; first += 10)
        {
            var batch = new StringBuilder();
            for (var n = first; n < first + 10; n++)
            {
                all.Add($"{prefix}-{n.ToString("D6", CultureInfo.InvariantCulture)}-abcdefghij");
                batch.Append(all[^1]).Append('\n');
            }
            await api.ProduceAsync("shared", batch.ToString());
        }
        return all;
    }
}
