using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using OrleansBus.Contracts;

namespace OrleansBus.Silo.Tests.Api;

/// <summary>The consumer-group endpoints over HTTP: wire formats, fencing, bad input, and the writer waking a long poll.</summary>
public sealed class GroupApiTests(SiloApiFactory factory) : IClassFixture<SiloApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private static string Poll(string category, string group, string query = "") => $"/v1/categories/{category}/groups/{group}/poll{query}";

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Poll_returns_raw_messages_with_delivery_headers_and_ack_moves_the_group_on()
    {
        var c = SiloHttp.NewCategory("grp");
        var produced = await SiloHttp.ProduceAsync(_client, c, "m1\nm2\nm3\n");

        using var poll = await _client.PostAsync(Poll(c, "g", "?max_messages=2&consumer=w1"), null);
        await SiloHttp.AssertStatusAsync(poll, HttpStatusCode.OK);
        Assert.Equal("m1\nm2\n", await poll.Content.ReadAsStringAsync());
        Assert.Equal(produced.Chunk, poll.Headers.GetValues(BusHeaders.Chunk).Single());
        Assert.Equal("0", poll.Headers.GetValues(BusHeaders.Offset).Single());
        Assert.Equal("6", poll.Headers.GetValues(BusHeaders.NextOffset).Single());
        Assert.Equal("1", poll.Headers.GetValues(BusHeaders.DeliveryCount).Single());
        var expires = DateTimeOffset.Parse(poll.Headers.GetValues(BusHeaders.LeaseExpires).Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(31));
        var token = poll.Headers.GetValues(BusHeaders.Delivery).Single();

        using var ack = await _client.PostAsync($"/v1/categories/{c}/groups/g/ack", Json($"{{\"delivery\":\"{token}\"}}"));
        await SiloHttp.AssertStatusAsync(ack, HttpStatusCode.NoContent);
        using var again = await _client.PostAsync($"/v1/categories/{c}/groups/g/ack", Json($"{{\"delivery\":\"{token}\"}}"));
        await SiloHttp.AssertProblemAsync(again, HttpStatusCode.Conflict, BusErrorCodes.LeaseLost);

        using var next = await _client.SendAsync(new HttpRequestMessage(HttpMethod.Post, Poll(c, "g")) { Headers = { { "Accept", "application/json" } } });
        var json = await next.Content.ReadFromJsonAsync<PollResult>();
        Assert.Equal((6L, 9L, 1), (json!.Offset, json.NextOffset, json.DeliveryCount));
        Assert.Equal(["m3"], json.Messages);
    }

    [Fact]
    public async Task Partial_ack_keeps_the_rest_leased_and_an_offset_that_is_not_a_boundary_is_refused()
    {
        var c = SiloHttp.NewCategory("part");
        await SiloHttp.ProduceAsync(_client, c, "aa\nbb\ncc\n");
        using var poll = await _client.PostAsync(Poll(c, "g"), null);
        var token = poll.Headers.GetValues(BusHeaders.Delivery).Single();

        using var bad = await _client.PostAsync($"/v1/categories/{c}/groups/g/ack", Json($"{{\"delivery\":\"{token}\",\"offset\":4}}"));
        await SiloHttp.AssertProblemAsync(bad, HttpStatusCode.BadRequest, BusErrorCodes.InvalidArgument);
        using var partial = await _client.PostAsync($"/v1/categories/{c}/groups/g/ack", Json($"{{\"delivery\":\"{token}\",\"offset\":3}}"));
        await SiloHttp.AssertStatusAsync(partial, HttpStatusCode.NoContent);
        using var meanwhile = await _client.PostAsync(Poll(c, "g"), null);
        Assert.Equal(HttpStatusCode.NoContent, meanwhile.StatusCode); // the rest is still leased

        var status = await _client.GetFromJsonAsync<GroupInfo>($"/v1/categories/{c}/groups/g");
        Assert.Equal((6L, 2L), (status!.LagBytes, status.LagMessages));
        Assert.Equal(3, Assert.Single(status.Chunks).AckedOffset);
    }

    [Fact]
    public async Task A_waiting_poll_is_woken_by_the_write_not_by_its_timeout()
    {
        var c = SiloHttp.NewCategory("wake");
        await SiloHttp.ProduceAsync(_client, c, "before\n");
        using (var first = await _client.PostAsync(Poll(c, "g"), null))
        {
            var token = first.Headers.GetValues(BusHeaders.Delivery).Single();
            await _client.PostAsync($"/v1/categories/{c}/groups/g/ack", Json($"{{\"delivery\":\"{token}\"}}"));
        }

        var clock = Stopwatch.StartNew();
        var waiting = _client.PostAsync(Poll(c, "g", "?wait_ms=20000"), null);
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted, "The poll answered before any data arrived.");
        await SiloHttp.ProduceAsync(_client, c, "after\n");
        using var woken = await waiting;

        Assert.Equal("after\n", await woken.Content.ReadAsStringAsync());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"The poll returned after {clock.Elapsed}: it waited for its timeout instead of being woken.");
    }

    [Fact]
    public async Task An_empty_poll_answers_204_after_its_wait_and_an_unknown_group_status_is_404()
    {
        var c = SiloHttp.NewCategory("empty");
        await SiloHttp.ProduceAsync(_client, c, "x\n");
        using var latest = await _client.PostAsync(Poll(c, "late", "?start=latest&wait_ms=50"), null);
        Assert.Equal(HttpStatusCode.NoContent, latest.StatusCode);
        using var unknown = await _client.GetAsync($"/v1/categories/{c}/groups/nobody");
        await SiloHttp.AssertProblemAsync(unknown, HttpStatusCode.NotFound, BusErrorCodes.GroupNotFound);
        using var noCategory = await _client.PostAsync(Poll("no-such-category", "g"), null);
        await SiloHttp.AssertProblemAsync(noCategory, HttpStatusCode.NotFound, BusErrorCodes.CategoryNotFound);
    }

    [Theory]
    [InlineData("?max_bytes=0")]
    [InlineData("?max_messages=0")]
    [InlineData("?wait_ms=-1")]
    [InlineData("?wait_ms=999999")]
    [InlineData("?lease_ms=5")]
    [InlineData("?start=middle")]
    public async Task Bad_poll_arguments_are_refused_and_create_no_group(string query)
    {
        var c = SiloHttp.NewCategory("badpoll");
        await SiloHttp.ProduceAsync(_client, c, "x\n");
        using var response = await _client.PostAsync(Poll(c, "g", query), null);
        await SiloHttp.AssertProblemAsync(response, HttpStatusCode.BadRequest, BusErrorCodes.InvalidArgument);
        using var status = await _client.GetAsync($"/v1/categories/{c}/groups/g");
        await SiloHttp.AssertProblemAsync(status, HttpStatusCode.NotFound, BusErrorCodes.GroupNotFound);
    }

    [Theory]
    [InlineData("BAD")]
    [InlineData("-x")]
    [InlineData("a%20b")]
    public async Task Bad_group_names_are_refused(string group)
    {
        var c = SiloHttp.NewCategory("badgroup");
        await SiloHttp.ProduceAsync(_client, c, "x\n");
        using var response = await _client.PostAsync(Poll(c, group), null);
        await SiloHttp.AssertProblemAsync(response, HttpStatusCode.BadRequest, BusErrorCodes.InvalidGroupName);
    }

    [Theory]
    [InlineData("ack", "{}")]
    [InlineData("ack", "not json")]
    [InlineData("nack", "{\"delivery\":\"x\",\"delayMs\":-5}")]
    [InlineData("seek", "{\"position\":\"middle\"}")]
    [InlineData("seek", "{\"position\":\"earliest\",\"time\":\"2026-01-01T00:00:00Z\"}")]
    public async Task Bad_settle_and_seek_bodies_are_refused(string action, string body)
    {
        var c = SiloHttp.NewCategory("badbody");
        await SiloHttp.ProduceAsync(_client, c, "x\n");
        using var response = await _client.PostAsync($"/v1/categories/{c}/groups/g/{action}", Json(body));
        await SiloHttp.AssertProblemAsync(response, HttpStatusCode.BadRequest, BusErrorCodes.InvalidArgument);
    }

    [Fact]
    public async Task Seek_by_time_skips_batches_appended_before_it()
    {
        var c = SiloHttp.NewCategory("seek");
        await SiloHttp.ProduceAsync(_client, c, "old\n");
        await Task.Delay(20); // append times are milliseconds: keep the two batches apart
        var cut = DateTimeOffset.UtcNow;
        await Task.Delay(20);
        await SiloHttp.ProduceAsync(_client, c, "new\n");

        using var seek = await _client.PostAsync($"/v1/categories/{c}/groups/g/seek", Json($"{{\"time\":\"{cut:O}\"}}"));
        await SiloHttp.AssertStatusAsync(seek, HttpStatusCode.OK);
        using var poll = await _client.PostAsync(Poll(c, "g"), null);
        Assert.Equal("new\n", await poll.Content.ReadAsStringAsync());
    }
}
