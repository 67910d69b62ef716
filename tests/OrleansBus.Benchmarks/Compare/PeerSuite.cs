using System.Security.Cryptography;

namespace OrleansBus.Benchmarks.Compare;

/// <summary>
/// Every workload against one system, in order: warm-up (untimed: 1 MiB batches, then single-message fsync), (a) produce in 1 MiB batches, our raw read,
/// (e) consume of (a)'s data per consumer count, (b1) fsync producers one message per request, (b2) the same in
/// batches, (c) fsync produce latency, (d) end to end.
/// Each workload gets a fresh stream, deleted afterwards; a failed workload is recorded and the next one runs.
/// </summary>
internal static class PeerSuite
{
    public static async Task RunAsync(IPeer peer, CompareOptions o, List<WorkloadResult> results, CancellationToken ct)
    {
        void Add(WorkloadResult r)
        {
            results.Add(r);
            Console.WriteLine(r.Describe());
        }
        var perBatch = CompareOptions.BatchBytes / CompareOptions.ProduceMessageBytes;
        var cap = TimeSpan.FromSeconds(o.MaxPhaseSeconds);
        await peer.ConfigureAsync(AckDurability.PageCache, ct);
        if (o.WarmupMiB > 0)
        {
            var w = NewStream("warmup");
            var warm = Guard(peer, "warmup", () =>
            {
                peer.CreateStream(w);
                var p = ThroughputWorkload.Run(peer, "warmup", w, CompareOptions.Connections, CompareOptions.ProduceMessageBytes, perBatch,
                    (long)o.WarmupMiB * BenchOptions.MiB / CompareOptions.ProduceMessageBytes, cap, ct);
                return p.Succeeded ? ConsumeWorkload.Run(peer, w, 1, p.Messages, CompareOptions.ProduceMessageBytes, cap, ct) : p;
            });
            if (warm.Succeeded && peer is OrleansBusPeer warmed) // our raw read path too, so "read" is not measured cold
                await warmed.RawReadAsync(w, new ExpectedTotals(warm.Messages, warm.Bytes), CompareOptions.Connections, ct);
            Drop(peer, w);
            Console.WriteLine($"{peer.Name,-10} warmup     {o.WarmupMiB} MiB produced and consumed (untimed){(warm.Succeeded ? "" : ": FAILED " + warm.Failure)}");
            await WarmUpSmallFsyncAsync(peer, o, ct);
        }

        var a = NewStream("a");
        var produced = Guard(peer, "produce-a", () =>
        {
            peer.CreateStream(a);
            return ThroughputWorkload.Run(peer, "produce-a", a, CompareOptions.Connections, CompareOptions.ProduceMessageBytes, perBatch,
                (long)o.ProduceMiB * BenchOptions.MiB / CompareOptions.ProduceMessageBytes, cap, ct);
        });
        Add(produced);
        if (produced.Succeeded && peer is OrleansBusPeer ours)
        {
            // One raw read per consumer count, with as many connections: (e) compares like with like.
            foreach (var connections in o.Consumers.Distinct())
            {
                var read = await ours.RawReadAsync(a, new ExpectedTotals(produced.Messages, produced.Bytes), connections, ct);
                Add(new WorkloadResult($"read-{connections}", peer.Name, read.Messages, read.Bytes, read.Seconds, read.LatencyMs, read.Failure));
            }
        }
        foreach (var consumers in o.Consumers)
        {
            if (produced.Succeeded)
                Add(Guard(peer, $"consume-{consumers}", () => ConsumeWorkload.Run(peer, a, consumers, produced.Messages, CompareOptions.ProduceMessageBytes, cap, ct)));
        }
        Drop(peer, a);

        await peer.ConfigureAsync(AckDurability.Fsync, ct);
        // (b1) the request rate with one message per request; (b2) the same producers in batches, which can
        // approach the disk's bandwidth (one 1 KiB message per request caps a group commit at producers × 1 KiB).
        foreach (var (workload, perRequest) in (ValueTuple<string, int>[])[("fsync-b1", 1), ("fsync-b2", o.FsyncBatch)])
        {
            var b = NewStream(workload);
            Add(Guard(peer, workload, () =>
            {
                peer.CreateStream(b);
                return ThroughputWorkload.Run(peer, workload, b, o.Producers, CompareOptions.FsyncMessageBytes, perRequest, long.MaxValue,
                    TimeSpan.FromSeconds(o.FsyncSeconds), ct);
            }));
            Drop(peer, b);
        }
        var c = NewStream("c");
        Add(Guard(peer, "latency-c", () =>
        {
            peer.CreateStream(c);
            return new OpenLoopProducer(peer, c, o.Rate, o.Seconds, CompareOptions.LatencyMessageBytes).Run("latency-c", ct);
        }));
        Drop(peer, c);

        await peer.ConfigureAsync(AckDurability.PageCache, ct);
        var d = NewStream("d");
        Add(Guard(peer, "e2e", () =>
        {
            peer.CreateStream(d);
            return EndToEndWorkload.Run(peer, d, o.Rate, o.Seconds, CompareOptions.LatencyMessageBytes, ct);
        }));
        Drop(peer, d);
    }

    /// <summary>
    /// Single-message fsync produce, untimed, like (b1): the path of (b1), (c) and (d) is other code than 1 MiB batches
    /// (small bodies, the group commit's sync), and a JIT-compiled server would otherwise spend (b1) compiling it.
    /// </summary>
    private static async Task WarmUpSmallFsyncAsync(IPeer peer, CompareOptions o, CancellationToken ct)
    {
        await peer.ConfigureAsync(AckDurability.Fsync, ct);
        var s = NewStream("warmup-small");
        var warm = Guard(peer, "warmup-small", () =>
        {
            peer.CreateStream(s);
            return ThroughputWorkload.Run(peer, "warmup-small", s, o.Producers, CompareOptions.FsyncMessageBytes, 1, long.MaxValue,
                TimeSpan.FromSeconds(WarmupSmallSeconds), ct);
        });
        Drop(peer, s);
        await peer.ConfigureAsync(AckDurability.PageCache, ct);
        Console.WriteLine($"{peer.Name,-10} warmup     {WarmupSmallSeconds} s of 1 KiB fsync produce, one message per request (untimed){(warm.Succeeded ? "" : ": FAILED " + warm.Failure)}");
    }

    private const int WarmupSmallSeconds = 3;

    // Valid as a category, a Redis key and a NATS stream name (no dots).
    private static string NewStream(string workload) => $"cmp-{workload}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";

    private static WorkloadResult Guard(IPeer peer, string workload, Func<WorkloadResult> run)
    {
        try
        {
            return run();
        }
#pragma warning disable CA1031 // a setup failure (stream, group) is this workload's failure; the next one still runs
        catch (Exception e)
#pragma warning restore CA1031
        {
            return new WorkloadResult(workload, peer.Name, 0, 0, 0, default, $"{e.GetType().Name}: {e.Message}" + (Environment.GetEnvironmentVariable("BENCH_DEBUG") is null ? "" : e.StackTrace));
        }
    }

    private static void Drop(IPeer peer, string stream)
    {
        try
        {
            peer.DropStream(stream);
        }
#pragma warning disable CA1031 // cleanup only: a stream left behind dies with the peer's temporary directory
        catch (Exception e)
#pragma warning restore CA1031
        {
            Console.Error.WriteLine($"{peer.Name}: could not delete {stream}: {e.Message}");
        }
    }
}
