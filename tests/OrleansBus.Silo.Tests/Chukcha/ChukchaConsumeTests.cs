using System.Net;
using OrleansBus.Silo.Tests.Api;
using OrleansBus.Testing;
using static OrleansBus.Silo.Tests.Chukcha.ChukchaHttp;

namespace OrleansBus.Silo.Tests.Chukcha;

/// <summary>
/// The chukcha API used the way chukcha's client uses it: write batches until chunks rotate, list, read each complete
/// chunk from 0 to its end in small replies, acknowledge it, and never see it listed again (its data stays).
/// </summary>
public sealed class ChukchaConsumeTests(SiloApiFactory silo) : IClassFixture<SiloApiFactory>
{
    private readonly HttpClient _client = silo.CreateClient();

    /// <summary>Writes 12 batches into a category with 1 KiB chunks; returns the bytes each chunk got, in chunk order.</summary>
    private static async Task<(List<string> Chunks, Dictionary<string, byte[]> Bytes)> WriteRotatingAsync(HttpClient client, string category, int batches = 12)
    {
        await SiloHttp.PutCategoryAsync(client, category, """{"maxChunkBytes":1024}""");
        var chunks = new List<string>();
        var bytes = new Dictionary<string, MemoryStream>(StringComparer.Ordinal);
        for (var i = 0; i < batches; i++)
        {
            var body = Messages(i * 6, 6);
            var chunk = await WriteAsync(client, category, body);
            if (!bytes.TryGetValue(chunk, out var stream))
            {
                chunks.Add(chunk);
                bytes[chunk] = stream = new MemoryStream();
            }
            stream.Write(body);
        }
        Assert.True(chunks.Count >= 3, $"Expected the batches to rotate through at least 3 chunks; got {chunks.Count}.");
        return (chunks, bytes.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal));
    }

    [Fact]
    public async Task Complete_chunks_read_in_small_replies_rebuild_the_exact_bytes_and_once_acknowledged_are_no_longer_listed()
    {
        var category = SiloHttp.NewCategory("ck-read");
        var (chunks, bytes) = await WriteRotatingAsync(_client, category);

        var listed = await WaitForCompleteChunksAsync(_client, category, chunks.Count);
        Assert.Equal(chunks, listed.Select(c => c.Name));
        Assert.Equal(chunks.Select(c => (long)bytes[c].Length), listed.Select(c => c.Size));
        Assert.False(listed[^1].Complete, "The chunk still being written must be listed as incomplete.");

        foreach (var chunk in chunks[..^1])
        {
            var read = await ReadToEndAsync(_client, category, chunk, maxSize: 64);
            Assert.Equal(bytes[chunk], read);

            await AckAsync(_client, category, chunk, read.Length);

            var after = await ListChunksAsync(_client, category);
            Assert.DoesNotContain(chunk, after.Select(c => c.Name));
            Assert.Equal(chunks[(chunks.IndexOf(chunk) + 1)..], after.Select(c => c.Name));
        }
        var left = Assert.Single(await ListChunksAsync(_client, category));
        Assert.Equal(new ListedChunk(chunks[^1], false, bytes[chunks[^1]].Length), left);
        Assert.Equal(bytes[chunks[^1]], await ReadToEndAsync(_client, category, chunks[^1], maxSize: 64));
    }

    [Fact]
    public async Task Data_of_an_acknowledged_chunk_stays_readable_through_the_v1_raw_read()
    {
        var category = SiloHttp.NewCategory("ck-stays");
        var (chunks, bytes) = await WriteRotatingAsync(_client, category, batches: 6);
        await WaitForCompleteChunksAsync(_client, category, chunks.Count);
        var first = chunks[0];
        await AckAsync(_client, category, first, bytes[first].Length);
        Assert.DoesNotContain(first, (await ListChunksAsync(_client, category)).Select(c => c.Name));

        var v1 = Assert.Single(await SiloHttp.ListChunksAsync(_client, category), c => c.Name == first);
        Assert.Contains(v1.State, new[] { "sealed", "archived" }); // archiving follows sealing within moments
        Assert.Equal((long)bytes[first].Length, v1.Size);
        Assert.Equal(bytes[first], await SiloHttp.ReadAllAsync(_client, category, first, v1.Size, maxBytes: 100));
        var chukchaRead = await ReadAsync(_client, category, first, 0, 1024 * 1024);
        Assert.Equal(HttpStatusCode.OK, chukchaRead.Status);
        Assert.Equal(bytes[first], chukchaRead.Bytes);
    }

    [Fact]
    public async Task The_chukcha_consume_loop_gets_every_message_once_in_order_and_a_fresh_client_starts_after_what_was_acknowledged()
    {
        var category = SiloHttp.NewCategory("ck-loop");
        var (chunks, bytes) = await WriteRotatingAsync(_client, category);
        await WaitForCompleteChunksAsync(_client, category, chunks.Count);

        var consumer = new ChukchaSimpleConsumer(_client, category, scratchBytes: 100);
        var processed = await consumer.DrainAsync();

        Assert.Equal(chunks.SelectMany(c => bytes[c]).ToArray(), processed);
        Assert.Equal(chunks[..^1], consumer.Acknowledged);

        // A client restarted without its saved state lists again: only the chunk it had not acknowledged is left.
        var restarted = new ChukchaSimpleConsumer(_client, category, scratchBytes: 100);
        Assert.Equal(bytes[chunks[^1]], await restarted.DrainAsync());
        Assert.Empty(restarted.Acknowledged);

        // New data reaches the running client, which acknowledges the chunk it finished once a newer one exists.
        var more = new List<byte>();
        for (var i = 100; i < 106; i++)
        {
            var body = Messages(i * 6, 6);
            await WriteAsync(_client, category, body);
            more.AddRange(body);
        }
        await Eventually.WaitForAsync(
            () => ListChunksAsync(_client, category),
            list => list[..^1].All(c => c.Complete),
            list => $"the chunks after the new writes never became complete: {string.Join(", ", list.Select(c => $"{c.Name}:{c.Complete}"))}");
        Assert.Equal(more.ToArray(), await consumer.DrainAsync());
        Assert.Contains(chunks[^1], consumer.Acknowledged);
    }

    [Fact]
    public async Task Acknowledgements_survive_a_silo_restart_so_a_restarted_client_does_not_read_them_again()
    {
        using var root = new TempDirectory("chukcha-restart");
        var dataDir = root.Combine("data");
        var category = SiloHttp.NewCategory("ck-restart");
        List<string> chunks;
        Dictionary<string, byte[]> bytes;
        await using (var first = SiloApiFactory.OnDataDir(dataDir))
        {
            var client = first.CreateClient();
            (chunks, bytes) = await WriteRotatingAsync(client, category);
            await WaitForCompleteChunksAsync(client, category, chunks.Count);
            await AckAsync(client, category, chunks[0], bytes[chunks[0]].Length);
            await AckAsync(client, category, chunks[1], bytes[chunks[1]].Length);
        }

        await using var second = SiloApiFactory.OnDataDir(dataDir);
        var again = second.CreateClient();
        var listed = await ListChunksAsync(again, category);

        Assert.Equal(chunks[2..], listed.Select(c => c.Name));
        Assert.All(listed, c => Assert.True(c.Complete, $"{c.Name} was sealed by the clean stop, so it is complete."));
        var consumer = new ChukchaSimpleConsumer(again, category, scratchBytes: 256);
        Assert.Equal(chunks[2..].SelectMany(c => bytes[c]).ToArray(), await consumer.DrainAsync());
    }
}
