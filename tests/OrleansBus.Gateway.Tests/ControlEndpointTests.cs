using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OrleansBus.Contracts;

namespace OrleansBus.Gateway.Tests;

/// <summary>
/// Ack, nack, seek, lag, the listings and category settings through the gateway, which makes them grain calls: each
/// reply reads as the silos' own (compared with a silo's answer to the same request), refusals keep the silos' codes,
/// values and limits, and a bad body is judged by the gateway before any grain.
/// </summary>
public sealed class ControlEndpointTests(ThreeSiloClusterFixture fixture) : IClassFixture<ThreeSiloClusterFixture>
{
    private GatewayCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task Settings_and_listings_answer_as_a_silo_does()
    {
        using var put = await Cluster.Http.PutAsync(Cluster.Url("/v1/categories/ctl-settings"),
            JsonContent.Create(new { maxChunkBytes = 4096, defaultDurability = "fsync" }));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.True(put.Headers.Contains("Bus-Silo"));
        var settings = await put.Content.ReadFromJsonAsync<CategoryInfo>();
        Assert.Equal(new CategoryInfo("ctl-settings", 4096, settings!.MaxChunkAgeMs, "fsync"), settings);

        await Cluster.ProduceAsync("ctl-settings", "one\ntwo\n");
        foreach (var silo in Cluster.Silos)
        {
            // Every silo, whichever created the category, answers the same as the gateway.
            Assert.Equal(await BodyAsync(silo.BaseUrl + "/v1/categories/ctl-settings"), await BodyAsync(Cluster.Gateway.BaseUrl + "/v1/categories/ctl-settings"));
        }
        var chunks = await Cluster.Http.GetFromJsonAsync<ChunkInfo[]>(Cluster.Url("/v1/categories/ctl-settings/chunks"));
        Assert.Equal(2, chunks!.Sum(c => c.Messages));
        var categories = await Cluster.Http.GetFromJsonAsync<CategoryInfo[]>(Cluster.Url("/v1/categories"));
        Assert.Contains(settings, categories!);

        // A refusal only a silo can make keeps its code, value and limit, and names the silo.
        using var tooSmall = await Cluster.Http.PutAsync(Cluster.Url("/v1/categories/ctl-settings"), JsonContent.Create(new { maxChunkBytes = 10 }));
        var problem = await GatewayCluster.ProblemAsync(tooSmall);
        Assert.Equal((HttpStatusCode.BadRequest, BusErrorCodes.InvalidArgument, "10", "at least 1024"),
            (tooSmall.StatusCode, problem.Code, problem.Value?.ToString(), problem.Limit?.ToString()));
        Assert.True(tooSmall.Headers.Contains("Bus-Silo"));
        Assert.Equal(4096, (await Cluster.Http.GetFromJsonAsync<CategoryInfo>(Cluster.Url("/v1/categories/ctl-settings")))!.MaxChunkBytes);

        using var unknown = await Cluster.Http.GetAsync(Cluster.Url("/v1/categories/ctl-never/chunks"));
        Assert.Equal((HttpStatusCode.NotFound, BusErrorCodes.CategoryNotFound), (unknown.StatusCode, (await GatewayCluster.ProblemAsync(unknown)).Code));
    }

    [Fact]
    public async Task Delete_through_the_gateway_answers_202_refuses_produce_and_ends_in_404()
    {
        await Cluster.ProduceAsync("ctl-delete", "one\ntwo\n");

        using var deleted = await Cluster.Http.DeleteAsync(Cluster.Url("/v1/categories/ctl-delete"));

        Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);
        Assert.True(deleted.Headers.Contains("Bus-Silo"));
        var info = (await deleted.Content.ReadFromJsonAsync<CategoryInfo>())!;
        Assert.Equal((CategoryStates.Deleting, 1), (info.State, info.Deletion!.ChunksLeft));
        // Until the deletion is done (a produce after it would create the category again), produce is refused everywhere.
        var refusals = new List<string>();
        for (var i = 0; i < 300; i++)
        {
            using var get = await Cluster.Http.GetAsync(Cluster.Url("/v1/categories/ctl-delete"));
            if (get.StatusCode == HttpStatusCode.NotFound)
                break;
            Assert.Equal(CategoryStates.Deleting, (await get.Content.ReadFromJsonAsync<CategoryInfo>())!.State);
            if (refusals.Count < 3)
            {
                using var produce = await Cluster.Http.PostAsync(Cluster.Url("/v1/categories/ctl-delete/messages"), new StringContent("late\n"));
                refusals.Add($"{(int)produce.StatusCode} {(await GatewayCluster.ProblemAsync(produce)).Code}");
            }
            await Task.Delay(100);
        }
        Assert.NotEmpty(refusals);
        Assert.All(refusals, r => Assert.Equal($"409 {BusErrorCodes.CategoryDeleting}", r));
        using (var gone = await Cluster.Http.GetAsync(Cluster.Url("/v1/categories/ctl-delete")))
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        using var unknown = await Cluster.Http.DeleteAsync(Cluster.Url("/v1/categories/ctl-delete"));
        Assert.Equal((HttpStatusCode.NotFound, BusErrorCodes.CategoryNotFound), (unknown.StatusCode, (await GatewayCluster.ProblemAsync(unknown)).Code));
    }

    [Fact]
    public async Task Poll_ack_nack_seek_and_lag_through_the_gateway_settle_exactly_what_was_leased()
    {
        await Cluster.ProduceAsync("ctl-group", "a\nb\nc\n");
        var poll = Cluster.Url("/v1/categories/ctl-group/groups/g1/poll?wait_ms=2000");

        var first = await PollAsync(poll);
        using (var nack = await PostJsonAsync("/v1/categories/ctl-group/groups/g1/nack", new { delivery = first.Token, delayMs = 0, reason = "try again" }))
            Assert.Equal(HttpStatusCode.NoContent, nack.StatusCode);
        var again = await PollAsync(poll);
        Assert.Equal((first.Body, 2), (again.Body, again.Count)); // the same range, delivered once more

        var lag = await Cluster.Http.GetFromJsonAsync<GroupInfo>(Cluster.Url("/v1/categories/ctl-group/groups/g1"));
        Assert.Equal(3, lag!.LagMessages);
        using (var ack = await PostJsonAsync("/v1/categories/ctl-group/groups/g1/ack", new { delivery = again.Token }))
            Assert.Equal(HttpStatusCode.NoContent, ack.StatusCode);
        lag = await Cluster.Http.GetFromJsonAsync<GroupInfo>(Cluster.Url("/v1/categories/ctl-group/groups/g1"));
        Assert.Equal(0, lag!.LagMessages);

        // Settling twice: the lease is gone, as a silo would say (409 lease_lost), from the silo that ran the call.
        using (var twice = await PostJsonAsync("/v1/categories/ctl-group/groups/g1/ack", new { delivery = again.Token }))
        {
            Assert.Equal((HttpStatusCode.Conflict, BusErrorCodes.LeaseLost), (twice.StatusCode, (await GatewayCluster.ProblemAsync(twice)).Code));
        }

        using (var seek = await PostJsonAsync("/v1/categories/ctl-group/groups/g1/seek", new { position = "earliest" }))
        {
            Assert.Equal(HttpStatusCode.OK, seek.StatusCode);
            Assert.Equal(3, (await seek.Content.ReadFromJsonAsync<GroupInfo>())!.LagMessages);
        }
        Assert.Equal(first.Body, (await PollAsync(poll)).Body);
    }

    [Fact]
    public async Task Bad_bodies_and_names_are_refused_by_the_gateway_before_any_grain()
    {
        using var notJson = await Cluster.Http.PostAsync(Cluster.Url("/v1/categories/ctl-bad/groups/g/ack"), new StringContent("{not json", Encoding.UTF8, "application/json"));
        var problem = await GatewayCluster.ProblemAsync(notJson);
        Assert.Equal((HttpStatusCode.BadRequest, BusErrorCodes.InvalidArgument), (notJson.StatusCode, problem.Code));
        Assert.StartsWith("body=", problem.Detail, StringComparison.Ordinal);
        Assert.False(notJson.Headers.Contains("Bus-Silo"));

        using var badPut = await Cluster.Http.PutAsync(Cluster.Url("/v1/categories/ctl-bad"), new StringContent("{}", Encoding.UTF8, "text/plain"));
        Assert.Equal((HttpStatusCode.BadRequest, "text/plain; charset=utf-8"), (badPut.StatusCode, (await GatewayCluster.ProblemAsync(badPut)).Value?.ToString()));
        Assert.False(badPut.Headers.Contains("Bus-Silo"));

        using var badGroup = await PostJsonAsync("/v1/categories/ctl-bad/groups/No.Caps/seek", new { position = "earliest" });
        Assert.Equal((HttpStatusCode.BadRequest, BusErrorCodes.InvalidGroupName), (badGroup.StatusCode, (await GatewayCluster.ProblemAsync(badGroup)).Code));

        // Produce and poll arguments with fixed rules: refused by the gateway in the silos' words, nothing forwarded.
        Assert.Equal(HttpStatusCode.OK, (await Cluster.ProduceAsync("ctl-args", "m\n")).Status);
        foreach (var path in new[] { "/v1/categories/ctl-args/messages?durability=always", "/v1/categories/ctl-args/groups/g/poll?wait_ms=999999" })
        {
            using var viaGateway = await Cluster.Http.PostAsync(Cluster.Url(path), new StringContent("m\n"));
            using var viaSilo = await Cluster.Http.PostAsync(new Uri(Cluster.Silos[0].BaseUrl + path), new StringContent("m\n"));
            var (gatewayProblem, siloProblem) = (await GatewayCluster.ProblemAsync(viaGateway), await GatewayCluster.ProblemAsync(viaSilo));
            Assert.Equal((HttpStatusCode.BadRequest, BusErrorCodes.InvalidArgument), (viaGateway.StatusCode, gatewayProblem.Code));
            Assert.Equal(siloProblem.Detail, gatewayProblem.Detail);
            Assert.False(viaGateway.Headers.Contains("Bus-Silo"), path);
        }

        // Nothing of the refused PUT was applied anywhere: the category was never created.
        using var none = await Cluster.Http.GetAsync(Cluster.Url("/v1/categories/ctl-bad"));
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
    }

    private async Task<(string Token, string Body, int Count)> PollAsync(Uri poll)
    {
        using var response = await Cluster.Http.PostAsync(poll, null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (response.Headers.GetValues(BusHeaders.Delivery).Single(), await response.Content.ReadAsStringAsync(),
            int.Parse(response.Headers.GetValues(BusHeaders.DeliveryCount).Single(), System.Globalization.CultureInfo.InvariantCulture));
    }

    private Task<HttpResponseMessage> PostJsonAsync(string path, object body) => Cluster.Http.PostAsync(Cluster.Url(path), JsonContent.Create(body));

    private async Task<string> BodyAsync(string url)
    {
        using var response = await Cluster.Http.GetAsync(new Uri(url));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonSerializer.Serialize(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement);
    }
}
