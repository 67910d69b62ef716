using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using OrleansBus.Contracts;

namespace OrleansBus.Silo.Tests.Api;

/// <summary>
/// <c>/metrics</c> (Prometheus text) after a produce and a consume shows our own instruments with the right numbers. The
/// meter is process-wide and other test classes produce too, so every figure is read for this test's own category.
/// </summary>
public sealed partial class MetricsTests(SiloApiFactory factory) : IClassFixture<SiloApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Produce_and_consume_show_up_in_the_prometheus_text_with_their_counts()
    {
        var c = SiloHttp.NewCategory("metrics");
        var fsyncBody = "one\ntwo\nthree\n";
        await SiloHttp.ProduceAsync(_client, c, fsyncBody, "?durability=fsync");
        await SiloHttp.ProduceAsync(_client, c, "four\nfive\n", "?durability=page-cache");
        using (var poll = await _client.PostAsync($"/v1/categories/{c}/groups/g/poll?max_messages=100", null))
        {
            await SiloHttp.AssertStatusAsync(poll, HttpStatusCode.OK);
            var token = poll.Headers.GetValues(BusHeaders.Delivery).Single();
            using var ack = await _client.PostAsync($"/v1/categories/{c}/groups/g/ack",
                new StringContent($"{{\"delivery\":\"{token}\"}}", Encoding.UTF8, "application/json"));
            await SiloHttp.AssertStatusAsync(ack, HttpStatusCode.NoContent);
        }

        using var response = await _client.GetAsync("/metrics");
        await SiloHttp.AssertStatusAsync(response, HttpStatusCode.OK);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(3, Value(text, "orleansbus_produce_messages_total", ("category", c), ("durability", "fsync")));
        Assert.Equal(2, Value(text, "orleansbus_produce_messages_total", ("category", c), ("durability", "page-cache")));
        Assert.Equal(Encoding.UTF8.GetByteCount(fsyncBody), Value(text, "orleansbus_produce_bytes_total", ("category", c), ("durability", "fsync")));
        Assert.Equal(2, Value(text, "orleansbus_produce_duration_milliseconds_count", ("category", c)));
        Assert.Equal(1, Value(text, "orleansbus_group_deliveries_total", ("category", c), ("group", "g")));
        Assert.Null(Find(text, "orleansbus_group_redeliveries_total", ("category", c)));
        Assert.True(Value(text, "orleansbus_fsync_duration_milliseconds_count") >= 1, "No fdatasync was recorded after an fsync produce.");
        Assert.True(Value(text, "orleansbus_fsync_batches_sum") >= 1, "No batch was counted as made durable by an fdatasync.");
        Assert.Equal(1, Value(text, "orleansbus_chunks", ("category", c), ("state", "active"), ("held", "own")));
        Assert.NotNull(Find(text, "orleansbus_archive_backlog"));
    }

    [Fact]
    public async Task Group_lag_gauges_show_what_the_group_has_not_acknowledged()
    {
        using var silo = SiloApiFactory.WithSettings(("Bus:GroupLagInterval", "00:00:00.200"));
        using var client = silo.CreateClient();
        var c = SiloHttp.NewCategory("lag");
        await SiloHttp.ProduceAsync(client, c, "one\ntwo\nthree\n", "");
        await SiloHttp.ProduceAsync(client, c, "four\nfive\n", "");
        using (var poll = await client.PostAsync($"/v1/categories/{c}/groups/g/poll?max_messages=3", null))
        {
            await SiloHttp.AssertStatusAsync(poll, HttpStatusCode.OK);
            Assert.Equal("one\ntwo\nthree\n", await poll.Content.ReadAsStringAsync());
            var token = poll.Headers.GetValues(BusHeaders.Delivery).Single();
            using var ack = await client.PostAsync($"/v1/categories/{c}/groups/g/ack",
                new StringContent($"{{\"delivery\":\"{token}\"}}", Encoding.UTF8, "application/json"));
            await SiloHttp.AssertStatusAsync(ack, HttpStatusCode.NoContent);
        }

        // Measured every 200 ms by the silo hosting the group's grain: wait for a measurement taken after the ack.
        var text = "";
        for (var attempt = 0; attempt < 100 && Find(text, "orleansbus_group_lag", ("category", c), ("group", "g")) != 2; attempt++)
        {
            await Task.Delay(100);
            using var response = await client.GetAsync("/metrics");
            text = await response.Content.ReadAsStringAsync();
        }
        Assert.Equal(2, Value(text, "orleansbus_group_lag", ("category", c), ("group", "g")));
        Assert.Equal(Encoding.UTF8.GetByteCount("four\nfive\n"), Value(text, "orleansbus_group_lag_bytes", ("category", c), ("group", "g")));
        Assert.InRange(Value(text, "orleansbus_group_oldest_unacked_age_seconds", ("category", c), ("group", "g")), 0, 60);
    }

    /// <summary>The sum over every series of <paramref name="metric"/> whose labels include <paramref name="labels"/>; fails when there is none.</summary>
    private static double Value(string text, string metric, params (string Name, string Value)[] labels) =>
        Find(text, metric, labels) ?? throw new Xunit.Sdk.XunitException(
            $"No series {metric} with {string.Join(", ", labels.Select(l => $"{l.Name}=\"{l.Value}\""))} in /metrics:\n{string.Join('\n', text.Split('\n').Where(l => l.StartsWith("orleansbus", StringComparison.Ordinal)))}");

    private static double? Find(string text, string metric, params (string Name, string Value)[] labels)
    {
        double? sum = null;
        foreach (var line in text.Split('\n'))
        {
            var match = SeriesLine().Match(line);
            if (!match.Success || match.Groups["name"].Value != metric)
                continue;
            var present = LabelPair().Matches(match.Groups["labels"].Value).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
            if (labels.All(l => present.TryGetValue(l.Name, out var v) && v == l.Value))
                sum = (sum ?? 0) + double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
        }
        return sum;
    }

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)""")]
    private static partial Regex SeriesLine();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
