using System.Text;
using OrleansBus.Client;
using OrleansBus.Contracts;

namespace OrleansBus.IntegrationTests.Client;

/// <summary>Refusals arrive as typed exceptions carrying the server's stable code, detail, value and limit.</summary>
public sealed class ClientErrorTests(ClientSilo silo) : IClassFixture<ClientSilo>
{
    [Fact]
    public async Task A_message_over_MaxMessageBytes_throws_BusMessageTooLargeException_with_the_limit_and_writes_nothing()
    {
        await using var client = silo.NewClient();
        await client.ProduceAsync("sizes", "small\n");
        var batch = "fits\n" + new string('x', ClientSilo.MaxMessageBytes + 1) + "\n";

        var error = await Assert.ThrowsAsync<BusMessageTooLargeException>(() => client.ProduceAsync("sizes", batch));

        Assert.Equal(413, error.Status);
        Assert.Equal(BusErrorCodes.MessageTooLarge, error.Code);
        Assert.Equal(ClientSilo.MaxMessageBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Limit);
        Assert.False(string.IsNullOrEmpty(error.Detail));
        Assert.Equal(["small"], await ReadBack.AllMessagesAsync(client, "sizes"));
    }

    [Theory]
    [InlineData("Upper")]
    [InlineData("has space")]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData("-leading-dash")]
    public async Task A_bad_category_name_throws_BusException_with_code_invalid_category_name(string name)
    {
        await using var client = silo.NewClient();

        var produce = await Assert.ThrowsAsync<BusException>(() => client.ProduceAsync(name, "x\n"));
        var chunks = await Assert.ThrowsAsync<BusException>(() => client.ListChunksAsync(name));

        Assert.Equal(BusErrorCodes.InvalidCategoryName, produce.Code);
        Assert.Equal(400, produce.Status);
        Assert.Equal(name, produce.Value);
        Assert.Equal(BusErrorCodes.InvalidCategoryName, chunks.Code);
        Assert.Throws<BusException>(() => client.CreateProducer(name));
    }

    [Fact]
    public async Task A_batch_without_its_trailing_newline_throws_BusException_with_code_missing_trailing_newline()
    {
        await using var client = silo.NewClient();

        var error = await Assert.ThrowsAsync<BusException>(() => client.ProduceAsync("newline-rule", "no newline at the end"));

        Assert.Equal(BusErrorCodes.MissingTrailingNewline, error.Code);
        Assert.Equal(400, error.Status);
        Assert.Equal(silo.Endpoint.ToString(), error.Endpoint?.ToString());
    }

    [Fact]
    public async Task Acknowledging_a_delivery_twice_throws_BusLeaseLostException()
    {
        await using var client = silo.NewClient();
        await client.ProduceAsync("stale-acks", "one\ntwo\n");
        var delivery = await client.PollAsync("stale-acks", "workers", new ConsumeOptions { WaitTime = TimeSpan.FromSeconds(5) });
        Assert.NotNull(delivery);
        await delivery.AckAsync();

        var error = await Assert.ThrowsAsync<BusLeaseLostException>(() => delivery.AckAsync());

        Assert.Equal(409, error.Status);
        Assert.Equal(BusErrorCodes.LeaseLost, error.Code);
    }

    [Fact]
    public async Task Acknowledging_after_the_lease_expired_and_went_to_another_consumer_throws_BusLeaseLostException()
    {
        await using var client = silo.NewClient();
        await client.ProduceAsync("expired-leases", "job\n");
        var first = await client.PollAsync("expired-leases", "workers", new ConsumeOptions { LeaseTime = TimeSpan.FromMilliseconds(300), ConsumerId = "slow" });
        Assert.NotNull(first);

        // The second consumer's long poll is answered once the first lease runs out.
        var second = await client.PollAsync("expired-leases", "workers", new ConsumeOptions { WaitTime = TimeSpan.FromSeconds(10), ConsumerId = "fast" });
        Assert.NotNull(second);
        Assert.Equal(2, second.DeliveryCount);

        await Assert.ThrowsAsync<BusLeaseLostException>(() => first.AckAsync());
        await second.AckAsync();
    }

    [Fact]
    public async Task Unknown_categories_chunks_and_groups_throw_BusNotFoundException_with_their_code()
    {
        await using var client = silo.NewClient();
        await client.ProduceAsync("known", "x\n");

        var category = await Assert.ThrowsAsync<BusNotFoundException>(() => client.ListChunksAsync("never-written"));
        var chunk = await Assert.ThrowsAsync<BusNotFoundException>(() => client.ReadChunkAsync("known", "c1-chunk000099999"));
        var group = await Assert.ThrowsAsync<BusNotFoundException>(() => client.GetGroupAsync("known", "never-polled"));

        Assert.Equal(BusErrorCodes.CategoryNotFound, category.Code);
        Assert.Equal(BusErrorCodes.ChunkNotFound, chunk.Code);
        Assert.Equal(BusErrorCodes.GroupNotFound, group.Code);
        Assert.All(new BusException[] { category, chunk, group }, e => Assert.Equal(404, e.Status));
    }

    [Fact]
    public async Task Admin_calls_read_and_change_category_settings()
    {
        await using var client = silo.NewClient();

        var created = await client.PutCategoryAsync("settings", new CategorySettingsUpdate(MaxChunkBytes: 4096, MaxChunkAgeMs: null, DefaultDurability: "fsync"));
        var read = await client.GetCategoryAsync("settings");
        var listed = await client.ListCategoriesAsync();
        var produced = await client.ProduceAsync("settings", Encoding.UTF8.GetBytes("durable by default\n"));

        Assert.Equal(4096, created.MaxChunkBytes);
        Assert.Equal(created, read);
        Assert.Contains(listed, c => c.Name == "settings");
        Assert.Equal(DurabilityNames.Fsync, produced.Durability);
    }
}
