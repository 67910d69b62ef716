using System.Net;
using System.Text.Json;
using OrleansBus.Gateway.Routing;

namespace OrleansBus.Gateway.Tests;

/// <summary>
/// Silos SIGKILLed behind a gateway whose refresh is deliberately slow (30 s), so the gateway still believes the
/// dead silos are live (Orleans has not told it otherwise): every request that survives does so by the gateway's own
/// retry, not by a lucky refresh.
/// </summary>
public sealed class SiloFailureTests : IAsyncLifetime
{
    private GatewayCluster _cluster = null!;

    public async Task InitializeAsync() =>
        _cluster = await GatewayCluster.StartAsync("kill", 3, new() { ["RefreshInterval"] = "00:00:30" });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Produces_after_a_silo_is_killed_all_succeed_on_the_others()
    {
        var victim = _cluster.Silos[0];
        // The key whose rendezvous owner is the victim: after the kill it must move to its second choice.
        var ids = _cluster.Silos.Select(s => s.SiloId).ToArray();
        var key = Enumerable.Range(0, 1000).Select(i => $"k{i}").First(k => Owner(k, ids) == victim.SiloId);
        var secondChoice = Owner(key, ids.Where(id => id != victim.SiloId).ToArray());
        Assert.Equal(victim.SiloId, (await _cluster.ProduceAsync("survive", "before\n", key)).Silo);

        await victim.KillAsync();

        var keyed = await _cluster.ProduceAsync("survive", "after\n", key);
        Assert.True((HttpStatusCode.OK, secondChoice) == (keyed.Status, keyed.Silo), $"expected 200 from {secondChoice}: {keyed}");
        var unkeyed = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => _cluster.ProduceAsync("survive", $"m{i}\n")));
        Assert.All(unkeyed, p => Assert.Equal(HttpStatusCode.OK, p.Status));
        Assert.DoesNotContain(unkeyed, p => p.Silo == victim.SiloId);
        Assert.Equal(2, unkeyed.Select(p => p.Silo).Distinct().Count());
        for (var i = 0; i < 5; i++)
        {
            var again = await _cluster.ProduceAsync("survive", "again\n", key);
            Assert.Equal((HttpStatusCode.OK, secondChoice), (again.Status, again.Silo));
        }

        // Only a failed connect can have taken it out of the live list: the refresh is 30 s away.
        Assert.False(await IsListedLiveAsync(victim.BaseUrl));
        Assert.Contains($"Could not connect to silo {victim.SiloId} at {victim.BaseUrl}", _cluster.Gateway.LogTail(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_requests_are_retried_on_a_live_silo_when_the_chosen_one_is_dead()
    {
        var survivor = _cluster.Silos[2];
        await _cluster.Silos[0].KillAsync();
        await _cluster.Silos[1].KillAsync();

        // Least outstanding rotates over all three believed-live silos, so within three GETs both dead ones are
        // chosen at least once; each of those GETs must still answer 200 from the survivor.
        for (var i = 0; i < 6; i++)
        {
            // A forwarded GET (the v1 listings are grain calls now, see ControlEndpointTests).
            using var response = await _cluster.Http.GetAsync(_cluster.Url("/listCategories"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(survivor.SiloId, response.Headers.GetValues("Bus-Silo").Single());
        }
        Assert.False(await IsListedLiveAsync(_cluster.Silos[0].BaseUrl));
        Assert.False(await IsListedLiveAsync(_cluster.Silos[1].BaseUrl));
        Assert.True(await IsListedLiveAsync(survivor.BaseUrl));
    }

    [Fact]
    public async Task When_every_silo_is_dead_the_client_gets_a_problem_naming_them()
    {
        // A produce whose body is on its way to a silo when every silo dies: it reached one, so its outcome is unknown
        // (504 outcome_unknown), not "unreachable".
        var bodyStarted = new TaskCompletionSource();
        var finishBody = new TaskCompletionSource();
        var inFlight = _cluster.Http.PostAsync(_cluster.Url("/v1/categories/halfway/messages"), new SlowBody(bodyStarted, finishBody.Task));
        await bodyStarted.Task;
        await Task.Delay(TimeSpan.FromMilliseconds(500)); // the gateway has forwarded the first part
        foreach (var silo in _cluster.Silos)
            await silo.KillAsync();
        finishBody.SetResult();
        using (var broken = await inFlight)
        {
            Assert.Equal(HttpStatusCode.GatewayTimeout, broken.StatusCode);
            Assert.Equal(OrleansBus.Contracts.BusErrorCodes.OutcomeUnknown, (await GatewayCluster.ProblemAsync(broken)).Code);
        }

        var produced = await _cluster.ProduceAsync("nowhere", "m\n");
        Assert.Equal(HttpStatusCode.BadGateway, produced.Status);
        var problem = JsonSerializer.Deserialize<OrleansBus.Contracts.BusProblem>(produced.Body)!;
        Assert.Equal("silo_unreachable", problem.Code);
        Assert.All(_cluster.Silos, s => Assert.True(problem.Detail.Contains(s.BaseUrl, StringComparison.Ordinal), problem.Detail));

        // Now every silo is marked unreachable: the next request is refused without trying.
        using var next = await _cluster.Http.GetAsync(_cluster.Url("/v1/categories"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, next.StatusCode);
        Assert.Equal("no_live_silo", (await GatewayCluster.ProblemAsync(next)).Code);
    }

    private static string Owner(string key, string[] ids) => ids.MaxBy(id => SiloPicker.Weight(key, id))!;

    [Fact]
    public async Task Control_calls_keep_answering_from_the_survivors_right_after_a_silo_is_killed()
    {
        var victim = _cluster.Silos[0];
        foreach (var silo in _cluster.Silos)
            Assert.Equal(HttpStatusCode.OK, (await GatewayCluster.ProduceAsync(_cluster.Http, silo.BaseUrl, "steady", "m\n"u8.ToArray())).Status);
        using (var poll = await _cluster.Http.PostAsync(_cluster.Url("/v1/categories/steady/groups/g/poll"), null))
            Assert.Equal(HttpStatusCode.OK, poll.StatusCode);

        await victim.KillAsync();

        // Grain calls whose Orleans gateway connection (or a grain) was on the victim are sent again elsewhere; none may
        // fail, and none is served by the dead silo.
        for (var i = 0; i < 12; i++)
        {
            var path = (i % 3) switch { 0 => "/v1/categories/steady", 1 => "/v1/categories/steady/groups/g", _ => "/v1/categories" };
            using var response = await _cluster.Http.GetAsync(_cluster.Url(path));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.NotEqual(victim.SiloId, response.Headers.GetValues("Bus-Silo").Single());
        }
    }

    private async Task<bool> IsListedLiveAsync(string baseUrl)
    {
        var listing = JsonDocument.Parse(await _cluster.Http.GetStringAsync(_cluster.Url("/gateway/silos"))).RootElement;
        return listing.EnumerateArray().Single(s => s.GetProperty("address").GetString() == baseUrl).GetProperty("live").GetBoolean();
    }

    /// <summary>A produce body sent in two parts: the second only once the test says so.</summary>
    private sealed class SlowBody(TaskCompletionSource started, Task release) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("first part\n", 1000))));
            await stream.FlushAsync();
            started.TrySetResult();
            await release;
            await stream.WriteAsync("second part\n"u8.ToArray());
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}