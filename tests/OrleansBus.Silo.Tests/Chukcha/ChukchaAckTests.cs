using System.Net;
using System.Net.Http.Json;
using System.Text;
using OrleansBus.Contracts;
using OrleansBus.Silo.Api;
using OrleansBus.Silo.Tests.Api;
using static OrleansBus.Silo.Tests.Chukcha.ChukchaHttp;

namespace OrleansBus.Silo.Tests.Chukcha;

/// <summary><c>/ack</c>: only a complete chunk read to exactly its size is acknowledged, for the group <c>chukcha</c>.</summary>
public sealed class ChukchaAckTests(SiloApiFactory silo) : IClassFixture<SiloApiFactory>
{
    private readonly HttpClient _client = silo.CreateClient();

    /// <summary>A category with one complete chunk (two 600-byte batches in 1 KiB chunks: the first rotates out).</summary>
    private async Task<(string Category, ListedChunk Complete, ListedChunk Active)> OneCompleteChunkAsync(string prefix)
    {
        var category = SiloHttp.NewCategory(prefix);
        await SiloHttp.PutCategoryAsync(_client, category, """{"maxChunkBytes":1024}""");
        await WriteAsync(_client, category, SiloHttp.Lines(6, 100));
        await WriteAsync(_client, category, SiloHttp.Lines(6, 100, (byte)'y'));
        var listed = await WaitForCompleteChunksAsync(_client, category, 2);
        return (category, listed[0], listed[1]);
    }

    [Fact]
    public async Task Ack_of_the_active_chunk_is_refused_with_chukchas_500_and_the_chunk_stays_listed()
    {
        var (category, _, active) = await OneCompleteChunkAsync("ack-active");

        using var response = await AckRawAsync(_client, category, active.Name, active.Size);

        var problem = await SiloHttp.AssertProblemAsync(response, HttpStatusCode.InternalServerError, BusErrorCodes.ChunkNotComplete);
        Assert.Contains(active.Name, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains(active.Name, (await ListChunksAsync(_client, category)).Select(c => c.Name));
    }

    [Fact]
    public async Task Ack_with_a_size_short_of_the_chunk_is_refused_as_not_fully_read_and_one_beyond_it_as_invalid()
    {
        var (category, complete, _) = await OneCompleteChunkAsync("ack-size");

        using (var shortAck = await AckRawAsync(_client, category, complete.Name, complete.Size - 100))
            await SiloHttp.AssertProblemAsync(shortAck, HttpStatusCode.InternalServerError, BusErrorCodes.ChunkNotFullyRead);
        using (var zero = await AckRawAsync(_client, category, complete.Name, 0))
            await SiloHttp.AssertProblemAsync(zero, HttpStatusCode.InternalServerError, BusErrorCodes.ChunkNotFullyRead);
        using (var beyond = await AckRawAsync(_client, category, complete.Name, complete.Size + 1))
            await SiloHttp.AssertProblemAsync(beyond, HttpStatusCode.BadRequest, BusErrorCodes.InvalidArgument);
        Assert.Contains(complete, await ListChunksAsync(_client, category));

        await AckAsync(_client, category, complete.Name, complete.Size);
        Assert.DoesNotContain(complete.Name, (await ListChunksAsync(_client, category)).Select(c => c.Name));
    }

    [Fact]
    public async Task A_repeated_or_concurrent_ack_of_the_same_chunk_answers_200_every_time()
    {
        var (category, complete, active) = await OneCompleteChunkAsync("ack-again");

        var racing = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => AckRawAsync(_client, category, complete.Name, complete.Size)));
        foreach (var response in racing)
        {
            await SiloHttp.AssertStatusAsync(response, HttpStatusCode.OK);
            response.Dispose();
        }
        await AckAsync(_client, category, complete.Name, complete.Size); // a retry after a lost reply

        Assert.Equal([active], await ListChunksAsync(_client, category));
    }

    [Fact]
    public async Task Ack_is_recorded_as_the_chukcha_consumer_groups_progress()
    {
        var (category, complete, active) = await OneCompleteChunkAsync("ack-group");

        await AckAsync(_client, category, complete.Name, complete.Size);

        var group = await _client.GetFromJsonAsync<GroupInfo>($"/v1/categories/{category}/groups/chukcha");
        Assert.Equal([active.Name], group!.Chunks.Select(c => c.Chunk));
        Assert.Equal(active.Size, group.LagBytes);
    }

    [Fact]
    public async Task Ack_is_refused_while_a_v1_consumer_of_the_chukcha_group_holds_a_lease_on_the_chunk()
    {
        var (category, complete, _) = await OneCompleteChunkAsync("ack-lease");
        using var poll = await _client.PostAsync($"/v1/categories/{category}/groups/chukcha/poll?max_bytes=100", null);
        await SiloHttp.AssertStatusAsync(poll, HttpStatusCode.OK);
        Assert.Equal(complete.Name, poll.Headers.GetValues(BusHeaders.Chunk).Single());

        using (var refused = await AckRawAsync(_client, category, complete.Name, complete.Size))
            await SiloHttp.AssertProblemAsync(refused, HttpStatusCode.Conflict, BusErrorCodes.ChunkLeased);
        Assert.Contains(complete, await ListChunksAsync(_client, category));

        var token = poll.Headers.GetValues(BusHeaders.Delivery).Single();
        using var settled = await _client.PostAsync($"/v1/categories/{category}/groups/chukcha/ack",
            new StringContent($"{{\"delivery\":\"{token}\"}}", Encoding.UTF8, "application/json"));
        await SiloHttp.AssertStatusAsync(settled, HttpStatusCode.NoContent);
        await AckAsync(_client, category, complete.Name, complete.Size);
        Assert.DoesNotContain(complete.Name, (await ListChunksAsync(_client, category)).Select(c => c.Name));
    }

    [Fact]
    public async Task Ack_of_a_missing_chunk_or_category_is_404_and_of_a_malformed_chunk_name_400()
    {
        var (category, complete, _) = await OneCompleteChunkAsync("ack-missing");

        using (var chunk = await AckRawAsync(_client, category, "silo1-chunk999999999", 10))
            await SiloHttp.AssertProblemAsync(chunk, HttpStatusCode.NotFound, BusErrorCodes.ChunkNotFound);
        using (var missing = await AckRawAsync(_client, SiloHttp.NewCategory("never"), complete.Name, complete.Size))
            await SiloHttp.AssertProblemAsync(missing, HttpStatusCode.NotFound, BusErrorCodes.CategoryNotFound);
        using (var malformed = await AckRawAsync(_client, category, "../" + complete.Name, complete.Size))
            await SiloHttp.AssertProblemAsync(malformed, HttpStatusCode.BadRequest, BusErrorCodes.InvalidChunkName);
        Assert.Contains(complete, await ListChunksAsync(_client, category));
    }

    [Theory]
    [InlineData("?category={c}&size=10", "chunk")]
    [InlineData("?category={c}&chunk={chunk}", "size")]
    [InlineData("?category={c}&chunk={chunk}&size=", "size")]
    [InlineData("?category={c}&chunk={chunk}&size=-1", "size")]
    [InlineData("?category={c}&chunk={chunk}&size=1e3", "size")]
    public async Task Ack_requires_the_chunk_and_a_non_negative_integer_size(string query, string parameter)
    {
        var (category, complete, _) = await OneCompleteChunkAsync("ack-params");

        using var response = await GetAsync(_client, "/ack" + query.Replace("{c}", category, StringComparison.Ordinal).Replace("{chunk}", complete.Name, StringComparison.Ordinal));

        var problem = await SiloHttp.AssertProblemAsync(response, HttpStatusCode.BadRequest, BusErrorCodes.InvalidArgument);
        Assert.StartsWith(parameter + "=", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains(complete, await ListChunksAsync(_client, category));
    }
}
