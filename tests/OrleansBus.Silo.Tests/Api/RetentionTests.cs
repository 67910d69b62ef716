using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using OrleansBus.Contracts;
using OrleansBus.Contracts.Grains;
using OrleansBus.Silo.Tests.Storage;
using static OrleansBus.Silo.Tests.Api.SiloHttp;

namespace OrleansBus.Silo.Tests.Api;

/// <summary>
/// Retention on a real silo (its own SQLite catalog and local archive) with a clock the test moves: the category grain
/// expires exactly the sealed chunks past the age, or the oldest ones over the size; their files, copies and blobs go;
/// a raw read answers 410; a group skips them and counts what it had not acknowledged.
/// </summary>
public sealed class RetentionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
    private const string OneKiBChunks = """{"maxChunkBytes":1024,"maxChunkAgeMs":86400000""";

    [Fact]
    public async Task Age_retention_expires_exactly_the_chunks_sealed_longer_ago_and_a_group_skips_them()
    {
        var clock = new ManualTime(T0);
        using var silo = SiloApiFactory.WithClock(clock, ("Bus:RetentionCheckInterval", "01:00:00"));
        using var client = silo.CreateClient();
        var c = NewCategory("age");
        await PutCategoryAsync(client, c, OneKiBChunks + ""","retentionMs":3600000}""");

        // Each batch of ten 100-byte messages fills a 1 KiB chunk: the next one seals it at the clock's time.
        await ProduceAsync(client, c, Lines(10, 100, (byte)'a'));
        await ProduceAsync(client, c, Lines(10, 100, (byte)'b')); // seals chunk 0 at T0
        await ProduceAsync(client, c, Lines(10, 100, (byte)'c')); // seals chunk 1 at T0
        // The seal is recorded just after the produce that caused it: only then may the clock move.
        await WaitUntilAsync(TimeSpan.FromSeconds(10), async () => (await ListChunksAsync(client, c)).Count(k => k.State is "sealed" or "archived") == 2, "chunks 0 and 1 sealed");
        clock.Advance(TimeSpan.FromMinutes(30));
        await ProduceAsync(client, c, Lines(10, 100, (byte)'d')); // seals chunk 2 at T0 + 30 min
        await ProduceAsync(client, c, Lines(10, 100, (byte)'e')); // seals chunk 3; chunk 4 stays active
        var chunks = await ListChunksAsync(client, c);
        Assert.Equal(5, chunks.Length);
        await WaitUntilAsync(TimeSpan.FromSeconds(10), async () => (await ListChunksAsync(client, c)).Take(4).All(k => k.State == "archived"), "the four sealed chunks archived");

        // A group acknowledges half of chunk 0 before anything expires.
        using (var poll = await client.PostAsync(new Uri($"/v1/categories/{c}/groups/g/poll?max_messages=5", UriKind.Relative), null))
        {
            await AssertStatusAsync(poll, HttpStatusCode.OK);
            var token = poll.Headers.GetValues(BusHeaders.Delivery).Single();
            using var ack = await client.PostAsJsonAsync(new Uri($"/v1/categories/{c}/groups/g/ack", UriKind.Relative), new AckRequest(token));
            await AssertStatusAsync(ack, HttpStatusCode.NoContent);
        }

        clock.Advance(TimeSpan.FromMinutes(31)); // chunks 0 and 1 were sealed 61 min ago, chunks 2 and 3 31 min ago
        var expired = await Category(silo, c).ApplyRetentionAsync();

        Assert.Equal([chunks[0].Name, chunks[1].Name], expired);
        Assert.Equal(["expired", "expired", "archived", "archived", "active"], (await ListChunksAsync(client, c)).Select(k => k.State));
        foreach (var name in expired)
        {
            Assert.False(File.Exists(Path.Combine(silo.DataDir, "archive", c, name)), $"the blob of {name} is still in the archive");
            await WaitUntilAsync(TimeSpan.FromSeconds(10), () => Task.FromResult(!File.Exists(Path.Combine(silo.CategoriesDir, c, name))), $"the local file of {name} deleted");
            using var read = await ReadRawAsync(client, c, name, "?offset=0&max_bytes=100");
            await AssertProblemAsync(read, HttpStatusCode.Gone, BusErrorCodes.ChunkExpired);
        }
        Assert.True(File.Exists(Path.Combine(silo.CategoriesDir, c, chunks[2].Name)), "a chunk inside the retention lost its file");

        // The group moves to the first live chunk and reports the five + ten messages it never acknowledged.
        using (var poll = await client.PostAsync(new Uri($"/v1/categories/{c}/groups/g/poll?max_messages=100", UriKind.Relative), null))
        {
            await AssertStatusAsync(poll, HttpStatusCode.OK);
            Assert.Equal(chunks[2].Name, poll.Headers.GetValues(BusHeaders.Chunk).Single());
        }
        var status = await client.GetFromJsonAsync<GroupInfo>(new Uri($"/v1/categories/{c}/groups/g", UriKind.Relative));
        Assert.Equal(15, status!.SkippedByRetention);
        Assert.Empty(await Category(silo, c).ApplyRetentionAsync()); // nothing more is due
    }

    [Fact]
    public async Task Size_retention_expires_the_oldest_sealed_chunks_until_the_category_fits_and_never_the_active_one()
    {
        var clock = new ManualTime(T0);
        using var silo = SiloApiFactory.WithClock(clock, ("Bus:RetentionCheckInterval", "01:00:00"));
        using var client = silo.CreateClient();
        var c = NewCategory("size");
        await PutCategoryAsync(client, c, OneKiBChunks + ""","retentionBytes":3000}""");
        for (var i = 0; i < 8; i++)
            await ProduceAsync(client, c, Lines(10, 100, (byte)('a' + i))); // 7 sealed chunks of 1,000 bytes, the 8th active
        await WaitUntilAsync(TimeSpan.FromSeconds(10), async () => (await ListChunksAsync(client, c)).Count(k => k.State is "sealed" or "archived") == 7, "seven chunks sealed");
        var chunks = await ListChunksAsync(client, c);

        var expired = await Category(silo, c).ApplyRetentionAsync();

        // The sealed chunks are brought to the limit (7,000 → 3,000 bytes); the active chunk is never expired, so the
        // category may hold the limit plus that one chunk.
        Assert.Equal(chunks.Take(4).Select(k => k.Name), expired);
        var left = (await ListChunksAsync(client, c)).Where(k => k.State != "expired").ToList();
        Assert.Equal(3000, left.Where(k => k.State != "active").Sum(k => k.Size));
        Assert.Equal(["sealed or archived", "sealed or archived", "sealed or archived", "active"],
            left.Select(k => k.State == "active" ? "active" : "sealed or archived"));
        var settings = await GetCategoryAsync(client, c);
        Assert.Equal((0L, 3000L), (settings.RetentionMs, settings.RetentionBytes));
    }

    [Theory]
    [InlineData("""{"retentionMs":-1}""", "retentionMs")]
    [InlineData("""{"retentionBytes":-5}""", "retentionBytes")]
    [InlineData("""{"retentionMs":"7d"}""", "body")]
    public async Task A_bad_retention_is_refused_and_changes_nothing(string body, string field)
    {
        using var silo = new SiloApiFactory();
        using var client = silo.CreateClient();
        var c = NewCategory("bad");
        await PutCategoryAsync(client, c, """{"retentionMs":60000}""");

        using var refused = await PutCategoryRawAsync(client, c, body);

        var problem = await AssertProblemAsync(refused, HttpStatusCode.BadRequest, BusErrorCodes.InvalidArgument);
        Assert.Contains(field, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(60000, (await GetCategoryAsync(client, c)).RetentionMs);
    }

    [Fact]
    public async Task Retention_on_a_dead_letter_category_is_allowed_and_the_reply_says_what_it_deletes()
    {
        using var silo = new SiloApiFactory();
        using var client = silo.CreateClient();
        var c = NewCategory("poison") + ".dead-letter";

        var answered = await PutCategoryAsync(client, c, """{"retentionMs":86400000}""");
        var plain = await PutCategoryAsync(client, NewCategory("plain"), """{"retentionMs":86400000}""");

        Assert.Equal(86400000, answered.RetentionMs);
        Assert.Contains("retention deletes them", answered.Warning, StringComparison.Ordinal);
        Assert.Null(plain.Warning);
        Assert.Null((await GetCategoryAsync(client, c)).Warning); // said once, on the change
    }

    private static ICategoryGrain Category(SiloApiFactory silo, string category) =>
        silo.Services.GetRequiredService<IGrainFactory>().GetGrain<ICategoryGrain>(category);
}
