using System.Net;
using System.Text.Json;
using OrleansBus.Testing;

namespace OrleansBus.Gateway.Tests;

/// <summary>
/// Issue 19, item 4: a silo frozen by SIGSTOP keeps its sockets open and answers nothing. Requests forwarded to it are
/// given up after <c>Gateway:SiloResponseTimeout</c> (2 s here) instead of hanging for the client's whole timeout; polls
/// and idempotent requests then go to another silo, and no new request is sent to the frozen one.
/// </summary>
public sealed class SiloPauseTests : IAsyncLifetime
{
    private GatewayCluster _cluster = null!;

    public async Task InitializeAsync() =>
        _cluster = await GatewayCluster.StartAsync("pause", 3, new() { ["SiloResponseTimeout"] = "00:00:02" });

    public async Task DisposeAsync()
    {
        foreach (var silo in _cluster.Silos.Where(s => s.IsRunning))
        {
            try
            {
                ProcessPause.Continue(silo.Pid); // a stopped process cannot be stopped gracefully
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task Polls_and_reads_move_off_a_frozen_silo_and_new_requests_avoid_it()
    {
        foreach (var silo in _cluster.Silos)
            Assert.Equal(HttpStatusCode.OK, (await GatewayCluster.ProduceAsync(_cluster.Http, silo.BaseUrl, "frozen", "m\n"u8.ToArray())).Status);
        var victim = _cluster.Silos[0];
        ProcessPause.Stop(victim.Pid);

        // Least outstanding rotates over the three silos, so the first requests include the frozen one; each is given up
        // after the deadline and answered by another silo.
        for (var i = 0; i < 6; i++)
        {
            using var read = await _cluster.Http.GetAsync(_cluster.Url("/listCategories"));
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            Assert.NotEqual(victim.SiloId, read.Headers.GetValues("Bus-Silo").Single());
        }
        Assert.Contains($"Silo {victim.SiloId} at {victim.BaseUrl} did not answer GET /listCategories", _cluster.Gateway.LogTail(), StringComparison.Ordinal);
        var listing = JsonDocument.Parse(await _cluster.Http.GetStringAsync(_cluster.Url("/gateway/silos"))).RootElement;
        Assert.False(listing.EnumerateArray().Single(s => s.GetProperty("id").GetString() == victim.SiloId).GetProperty("live").GetBoolean());

        // Polls: a group whose grain lives on the frozen silo stalls cluster-wide until Orleans declares the silo dead, so
        // an early poll may end in 504 outcome_unknown (bounded by the deadline, never a hang or a 500); none is served
        // by the frozen silo, and once Orleans has given up on it, polls are served again.
        var statuses = new List<HttpStatusCode>();
        var served = 0;
        var giveUp = DateTime.UtcNow + TimeSpan.FromSeconds(45);
        for (var i = 0; DateTime.UtcNow < giveUp && served < 3; i++)
        {
            if (i > 0)
                await Task.Delay(TimeSpan.FromMilliseconds(250));
            using var poll = await _cluster.Http.PostAsync(_cluster.Url("/v1/categories/frozen/groups/g/poll?wait_ms=200"), null);
            statuses.Add(poll.StatusCode);
            Assert.True(poll.StatusCode is HttpStatusCode.OK or HttpStatusCode.NoContent or HttpStatusCode.GatewayTimeout or HttpStatusCode.ServiceUnavailable,
                $"poll {i}: {(int)poll.StatusCode} {await poll.Content.ReadAsStringAsync()}");
            if (poll.StatusCode is HttpStatusCode.OK or HttpStatusCode.NoContent)
            {
                Assert.NotEqual(victim.SiloId, poll.Headers.GetValues("Bus-Silo").Single());
                served++;
            }
        }
        Assert.True(served == 3, $"Polls were not served again while {victim.SiloId} stayed frozen: {string.Join(", ", statuses.Select(s => (int)s))}");
    }
}
