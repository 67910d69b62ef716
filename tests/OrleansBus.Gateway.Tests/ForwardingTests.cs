using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using OrleansBus.Contracts;

namespace OrleansBus.Gateway.Tests;

/// <summary>
/// Three real silos in one Orleans cluster on PostgreSQL behind a real gateway process. Read-backs go to the silo that
/// <c>Bus-Silo</c> names, so each checks the writer's own copy.
/// </summary>
public sealed class ForwardingTests(ThreeSiloClusterFixture fixture) : IClassFixture<ThreeSiloClusterFixture>
{
    private GatewayCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task A_produce_through_the_gateway_lands_on_the_silo_it_names_and_reads_back_there()
    {
        var produced = await Cluster.ProduceAsync("orders", "first\nsecond\n");

        Assert.Equal(HttpStatusCode.OK, produced.Status);
        var silo = Cluster.SiloAt(produced.Silo);
        Assert.Equal(silo.SiloId, produced.ChunkOwner);
        Assert.Equal(2, produced.Result!.Messages);
        using var read = await Cluster.Http.GetAsync(new Uri(
            $"{silo.BaseUrl}/v1/categories/orders/chunks/{produced.Result.Chunk}?offset={produced.Result.Offset}"));
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal("first\nsecond\n", await read.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_gateway_serves_its_own_metrics_and_forwards_the_openapi_document()
    {
        await Cluster.ProduceAsync("metered", "m\n");

        using var response = await Cluster.Http.GetAsync(Cluster.Url("/metrics"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains(OrleansBus.Gateway.Api.ForwardingEndpoint.SiloHeader), "/metrics was forwarded to a silo.");
        // The produce it forwarded, as ASP.NET Core's request duration and HttpClient's outgoing request duration.
        Assert.Contains("http_server_request_duration_seconds_count{", text, StringComparison.Ordinal);
        Assert.Contains("http_client_request_duration_seconds_count{", text, StringComparison.Ordinal);

        // The description of API v1 comes from a silo, like the API itself.
        using var openApi = await Cluster.Http.GetAsync(Cluster.Url("/openapi/v1.json"));
        Assert.Equal(HttpStatusCode.OK, openApi.StatusCode);
        Assert.True(openApi.Headers.Contains(OrleansBus.Gateway.Api.ForwardingEndpoint.SiloHeader));
        Assert.Contains("\"/v1/categories/{category}/messages\"", await openApi.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Twenty_produces_with_one_key_land_on_one_silo_and_different_keys_spread()
    {
        var sameKey = new List<Produced>();
        for (var i = 0; i < 20; i++)
            sameKey.Add(await Cluster.ProduceAsync("keyed", $"m{i}\n", key: "customer-42"));
        Assert.All(sameKey, p => Assert.Equal(HttpStatusCode.OK, p.Status));
        Assert.Single(sameKey.Select(p => p.Silo).Distinct());
        Assert.Single(sameKey.Select(p => p.ChunkOwner).Distinct());
        Assert.Equal(Cluster.SiloAt(sameKey[0].Silo).SiloId, sameKey[0].ChunkOwner);

        var silosByKey = new HashSet<string>();
        for (var i = 0; i < 20; i++)
        {
            var produced = await Cluster.ProduceAsync("keyed", "x\n", key: $"key-{i}");
            Assert.Equal(HttpStatusCode.OK, produced.Status);
            silosByKey.Add(produced.Silo!);
        }
        Assert.True(silosByKey.Count > 1, $"20 different keys all went to {string.Join(", ", silosByKey)}.");
    }

    [Fact]
    public async Task Concurrent_produces_without_a_key_spread_over_every_silo()
    {
        var produced = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => Cluster.ProduceAsync("spread", $"m{i}\n")));

        Assert.All(produced, p => Assert.Equal(HttpStatusCode.OK, p.Status));
        var served = produced.Select(p => p.Silo).Distinct().Order().ToArray();
        Assert.Equal(Cluster.Silos.Select(s => s.SiloId).Order().ToArray(), served);
        Assert.All(produced, p => Assert.Equal(Cluster.SiloAt(p.Silo).SiloId, p.ChunkOwner));
    }

    [Fact]
    public async Task A_10_MiB_body_streams_through_byte_for_byte()
    {
        var body = TestBodies.Lines(10 * 1024 * 1024, seed: 7);

        var produced = await GatewayCluster.ProduceAsync(Cluster.Http, Cluster.Gateway.BaseUrl, "big", body);

        Assert.Equal(HttpStatusCode.OK, produced.Status);
        Assert.Equal(body.Length, produced.Result!.Length);
        var silo = Cluster.SiloAt(produced.Silo);
        var back = await Cluster.Http.GetByteArrayAsync(new Uri(
            $"{silo.BaseUrl}/v1/categories/big/chunks/{produced.Result.Chunk}?offset={produced.Result.Offset}&max_bytes={body.Length}"));
        Assert.True(body.AsSpan().SequenceEqual(back), $"Read back {back.Length} bytes that differ from the {body.Length} produced.");
    }

    [Fact]
    public async Task A_body_over_the_silo_limit_gets_the_silos_413_problem_through_the_gateway()
    {
        var body = TestBodies.Lines(BusLimits.DefaultMaxRequestBytes + 1024 * 1024, seed: 3);

        var withLength = await GatewayCluster.ProduceAsync(Cluster.Http, Cluster.Gateway.BaseUrl, "too-big", body);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, withLength.Status);
        Assert.NotNull(withLength.Silo);
        Assert.Equal(BusErrorCodes.RequestTooLarge, JsonSerializer.Deserialize<BusProblem>(withLength.Body)!.Code);

        // Chunked (no Content-Length): the silo finds out while streaming, and its answer still comes through.
        using var content = new StreamContent(new MemoryStream(body));
        content.Headers.ContentLength = null;
        using var request = new HttpRequestMessage(HttpMethod.Post, Cluster.Url("/v1/categories/too-big/messages")) { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var chunked = await Cluster.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, chunked.StatusCode);
        Assert.Equal(BusErrorCodes.RequestTooLarge, (await GatewayCluster.ProblemAsync(chunked)).Code);

        foreach (var silo in Cluster.Silos)
        {
            using var list = await Cluster.Http.GetAsync(new Uri($"{silo.BaseUrl}/v1/categories/too-big/chunks"));
            Assert.Equal(HttpStatusCode.NotFound, list.StatusCode); // nothing was written anywhere
        }
    }

    [Fact]
    public async Task Silo_errors_headers_and_query_pass_through_unchanged()
    {
        using var bad = await Cluster.Http.GetAsync(Cluster.Url("/v1/categories/BAD..name/chunks"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(BusErrorCodes.InvalidCategoryName, (await GatewayCluster.ProblemAsync(bad)).Code);
        Assert.False(bad.Headers.Contains("Bus-Silo")); // judged by the gateway itself (issue 14), before any silo

        // An error only a silo can know (the category does not exist) comes through as the silo said it.
        using var unknown = await Cluster.Http.GetAsync(Cluster.Url("/v1/categories/never-written/chunks"));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(BusErrorCodes.CategoryNotFound, (await GatewayCluster.ProblemAsync(unknown)).Code);
        Assert.True(unknown.Headers.Contains("Bus-Silo"));

        var produced = await Cluster.ProduceAsync("passthrough", "a\nb\nc\n", key: "p");
        var silo = produced.Silo!;
        // A raw read with a query, through the gateway: retried until the least-outstanding pick is the owner,
        // which is bounded because the pick rotates over three silos.
        for (var attempt = 0; attempt < 30; attempt++)
        {
            using var read = await Cluster.Http.GetAsync(Cluster.Url($"/v1/categories/passthrough/chunks/{produced.Result!.Chunk}?offset={produced.Result.Offset + 2}&max_bytes=2"));
            if (read.Headers.GetValues("Bus-Silo").Single() != silo)
                continue;
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            Assert.Equal("b\n", await read.Content.ReadAsStringAsync());
            Assert.Equal((produced.Result.Offset + 4).ToString(System.Globalization.CultureInfo.InvariantCulture), read.Headers.GetValues(BusHeaders.NextOffset).Single());
            Assert.Equal(2, read.Content.Headers.ContentLength);
            return;
        }
        Assert.Fail($"30 reads through the gateway never went to {silo}.");
    }

    [Fact]
    public async Task Chukcha_paths_are_forwarded()
    {
        using var write = await Cluster.Http.PostAsync(Cluster.Url("/write?category=legacy"), new StringContent("old-style\n"));
        Assert.Equal(HttpStatusCode.OK, write.StatusCode);
        var silo = Cluster.SiloAt(write.Headers.GetValues("Bus-Silo").Single());

        using var categories = await Cluster.Http.GetAsync(new Uri($"{silo.BaseUrl}/listCategories"));
        Assert.Contains("legacy", await categories.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var viaGateway = await Cluster.Http.GetAsync(Cluster.Url("/listCategories"));
        Assert.Equal(HttpStatusCode.OK, viaGateway.StatusCode);
        Assert.True(viaGateway.Headers.Contains("Bus-Silo"));
    }

    [Fact]
    public async Task The_gateway_lists_its_silos_and_answers_unknown_paths_with_a_problem()
    {
        var listing = JsonDocument.Parse(await Cluster.Http.GetStringAsync(Cluster.Url("/gateway/silos"))).RootElement;
        Assert.Equal(3, listing.GetArrayLength());
        Assert.All(listing.EnumerateArray(), s => Assert.True(s.GetProperty("live").GetBoolean()));
        Assert.Equal(Cluster.Silos.Select(s => s.BaseUrl).Order(), listing.EnumerateArray().Select(s => s.GetProperty("address").GetString()).Order());
        Assert.All(listing.EnumerateArray(), s => Assert.True(s.GetProperty("outstanding").GetInt32() >= 0));

        using var unknown = await Cluster.Http.GetAsync(Cluster.Url("/nowhere"));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("not_found", (await GatewayCluster.ProblemAsync(unknown)).Code);
        Assert.False(unknown.Headers.Contains("Bus-Silo")); // the gateway answered itself

        using var ready = await Cluster.Http.GetAsync(Cluster.Url("/health/ready"));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }
}
