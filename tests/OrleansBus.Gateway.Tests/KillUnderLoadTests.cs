using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using OrleansBus.Contracts;
using Xunit.Abstractions;

namespace OrleansBus.Gateway.Tests;

/// <summary>
/// A silo SIGKILLed while producers keep the gateway busy (default refresh, 1 s). Asserts what must hold — every
/// refusal is a problem document with a code (never a 500), the survivors keep taking writes, and once Orleans has
/// declared the silo dead (the gateway's listing drops it) no request is routed to it — and reports, without asserting,
/// the figures: refusals by code, the longest gap between acknowledged writes, and when the gateway stopped using it.
/// </summary>
public sealed class KillUnderLoadTests(ITestOutputHelper output)
{
    private const int Producers = 8;
    private static readonly TimeSpan LoadBefore = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan LoadAfter = TimeSpan.FromSeconds(10);

    private sealed record Reply(TimeSpan SentAt, TimeSpan AnsweredAt, HttpStatusCode Status, string? Silo, string? Code);

    [Fact]
    public async Task A_silo_killed_under_load_costs_only_its_in_flight_requests_and_gets_none_once_declared_dead()
    {
        await using var cluster = await GatewayCluster.StartAsync("load", 3);
        var victim = cluster.Silos[0];
        var clock = Stopwatch.StartNew();
        var replies = new ConcurrentQueue<Reply>();
        TimeSpan? killedAt = null, markedAt = null, droppedAt = null;
        using var stop = new CancellationTokenSource();

        var producers = Enumerable.Range(0, Producers).Select(p => Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested && n < 1_000_000; n++)
            {
                var sent = clock.Elapsed;
                var produced = await GatewayCluster.ProduceAsync(cluster.Http, cluster.Gateway.BaseUrl, "loaded", Encoding.UTF8.GetBytes($"p{p}-{n}\n"));
                var code = produced.Status == HttpStatusCode.OK ? null : JsonSerializer.Deserialize<BusProblem>(produced.Body)?.Code;
                replies.Enqueue(new Reply(sent, clock.Elapsed, produced.Status, produced.Silo, code));
            }
        })).ToArray();
        var watcher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var listing = JsonDocument.Parse(await cluster.Http.GetStringAsync(cluster.Url("/gateway/silos"))).RootElement;
                var entry = listing.EnumerateArray().Where(s => s.GetProperty("id").GetString() == victim.SiloId).ToArray();
                if (killedAt is not null && markedAt is null && (entry.Length == 0 || !entry[0].GetProperty("live").GetBoolean()))
                    markedAt = clock.Elapsed;
                if (killedAt is not null && droppedAt is null && entry.Length == 0)
                    droppedAt = clock.Elapsed;
                await Task.Delay(50);
            }
        });

        await Task.Delay(LoadBefore);
        await victim.KillAsync();
        killedAt = clock.Elapsed;
        await Task.Delay(LoadAfter);
        await stop.CancelAsync();
        await Task.WhenAll(producers);
        await watcher;

        var all = replies.OrderBy(r => r.AnsweredAt).ToArray();
        var refusals = all.Where(r => r.Status != HttpStatusCode.OK).ToArray();
        var acknowledged = all.Where(r => r.Status == HttpStatusCode.OK).ToArray();
        var longestGap = acknowledged.Zip(acknowledged.Skip(1), (a, b) => b.AnsweredAt - a.AnsweredAt).DefaultIfEmpty().Max();
        output.WriteLine($"{all.Length} produces, {acknowledged.Length} acknowledged; killed {victim.SiloId} at {killedAt!.Value.TotalSeconds:0.00} s; "
            + $"gateway marked it not live after {Since(markedAt)}, Orleans' death reached the gateway after {Since(droppedAt)}; "
            + $"longest gap between acknowledged writes {longestGap.TotalMilliseconds:0} ms");
        foreach (var group in refusals.GroupBy(r => (r.Status, r.Code)))
            output.WriteLine($"refused {(int)group.Key.Status} {group.Key.Code}: {group.Count()}");

        Assert.All(refusals, r => Assert.NotNull(r.Code)); // a problem document with a code, never a bare error
        // Requests in flight to the victim reached it: "outcome unknown", never "unreachable" (the others moved on).
        Assert.DoesNotContain(refusals, r => r.Code == OrleansBus.Contracts.BusErrorCodes.SiloUnreachable);
        Assert.DoesNotContain(all, r => r.Status == HttpStatusCode.InternalServerError);
        Assert.NotNull(droppedAt); // Orleans declared it dead within the run and the gateway heard of it
        Assert.DoesNotContain(all, r => r.SentAt > droppedAt && r.Silo == victim.SiloId);
        Assert.Contains(acknowledged, r => r.SentAt > droppedAt); // and the survivors took writes afterwards
        Assert.Equal(2, acknowledged.Where(r => r.SentAt > droppedAt).Select(r => r.Silo).Distinct().Count());

        string Since(TimeSpan? at) => at is { } t ? $"{(t - killedAt!.Value).TotalMilliseconds:0} ms" : "never";
    }
}
