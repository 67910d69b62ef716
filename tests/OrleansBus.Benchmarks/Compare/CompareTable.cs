using System.Globalization;
using System.Text;

namespace OrleansBus.Benchmarks.Compare;

/// <summary>
/// One table row: a metric of a workload for each system (null: not run or failed), ratios, target, and a note
/// after the verdict (the machine's own figure for the same metric, where one was measured).
/// </summary>
internal sealed record CompareRow(string Workload, string Metric, double? OrleansBus, double? Redis, double? Nats,
    double? OrleansBusPerRedis, double? OrleansBusPerNats, string Target, bool? Met, string? Note = null);

/// <summary>
/// Turns the workload results into rows (workload × system, ratios OrleansBus ÷ peer, the issue's targets) and
/// prints them as one fixed-width table. For latency rows a ratio below 1 means OrleansBus is faster.
/// </summary>
internal static class CompareTable
{
    public static List<CompareRow> Build(List<WorkloadResult> results, MachineLimitsResult limits, CompareOptions o)
    {
        var rows = new List<CompareRow>();
        WorkloadResult? Get(string system, string workload) => results.Find(r => r.System == system && r.Workload == workload && r.Succeeded);
        CompareRow Row(string workload, string label, string metric, Func<WorkloadResult, double> value, string target = "",
            Func<double, double?, double?, bool?>? met = null, string? note = null)
        {
            double? V(string s) => Get(s, workload) is { } r ? value(r) : null;
            var (ob, redis, nats) = (V("orleansbus"), V("redis"), V("nats"));
            var row = new CompareRow(label, metric, ob, redis, nats, Ratio(ob, redis), Ratio(ob, nats), target,
                met is null || ob is null ? null : met(ob.Value, redis, nats), note);
            rows.Add(row);
            return row;
        }
        var a = "(a) produce 100 B, 1 MiB batches, page-cache";
        Row("produce-a", a, "msg/s", r => r.MessagesPerSecond, "≥ 2× Redis and ≥ 2× NATS",
            (ob, redis, nats) => (redis is null || ob >= 2 * redis) && (nats is null || ob >= 2 * nats));
        // What this machine can put into new page-cache pages at all (one writer): a growing log writes only new pages.
        Row("produce-a", a, "MiB/s", r => r.MiBPerSecond, "≥ 400 MiB/s", (ob, _, _) => ob >= 400,
            limits.DdNewPagesMiBps > 0 ? $"machine: dd into new page-cache pages {limits.DdNewPagesMiBps:F0} MiB/s" : null);
        Row("produce-a", a, "p99 ms/batch", r => r.LatencyMs.P99);
        var b1 = $"(b1) produce 1 KiB, fsync, {o.Producers} producers, 1/request";
        // Issue 18's targets for small requests: (b1) at least half of Redis, (c) p99 ≤ 3 ms, (d) p99 ≤ 5 ms.
        Row("fsync-b1", b1, "msg/s", r => r.MessagesPerSecond, "≥ 0.5× Redis", (ob, redis, _) => redis is null ? null : ob >= 0.5 * redis);
        Row("fsync-b1", b1, "MiB/s", r => r.MiBPerSecond);
        Row("fsync-b1", b1, "p99 ms/request", r => r.LatencyMs.P99);
        var b2 = $"(b2) produce 1 KiB, fsync, {o.Producers} producers, {o.FsyncBatch}/request";
        Row("fsync-b2", b2, "msg/s", r => r.MessagesPerSecond);
        var dd = limits.DdFdatasyncNewFileMiBps;
        Row("fsync-b2", b2, "MiB/s", r => r.MiBPerSecond, $"≥ 80% of dd conv=fdatasync ({0.8 * dd:F0} of {dd:F0} MiB/s)", (ob, _, _) => dd > 0 && ob >= 0.8 * dd);
        Row("fsync-b2", b2, "p99 ms/request", r => r.LatencyMs.P99);
        // The machine's own 1 KiB append + fdatasync, same percentile: no fsync acknowledgement can beat it.
        var (sync, synced) = (limits.AppendFdatasyncMs, limits.AppendFdatasyncCount > 0);
        string? Floor(string percentile, double ms) => synced ? $"machine fdatasync {percentile} {ms:F2} ms" : null;
        var c = $"(c) produce latency, fsync, {o.Rate}/s";
        Row("latency-c", c, "p50 ms", r => r.LatencyMs.P50, note: Floor("p50", sync.P50));
        Row("latency-c", c, "p99 ms", r => r.LatencyMs.P99, "p99 ≤ 3 ms", (ob, _, _) => ob <= 3, Floor("p99", sync.P99));
        Row("latency-c", c, "p999 ms", r => r.LatencyMs.P999, note: Floor("p999", sync.P999));
        var d = $"(d) end to end, page-cache, {o.Rate}/s";
        Row("e2e", d, "p50 ms", r => r.LatencyMs.P50);
        Row("e2e", d, "p99 ms", r => r.LatencyMs.P99, "p99 ≤ 5 ms", (ob, _, _) => ob <= 5);
        foreach (var n in o.Consumers)
        {
            var read = Get("orleansbus", $"read-{n}");
            Row($"read-{n}", $"raw read (OrleansBus only), 1 MiB reads, {n} conn", "MiB/s", r => r.MiBPerSecond);
            var e = $"(e) consume + ack, {n} consumer{(n == 1 ? "" : "s")}";
            Row($"consume-{n}", e, "MiB/s", r => r.MiBPerSecond);
            Row($"consume-{n}", e, "msg/s", r => r.MessagesPerSecond);
            if (read is { MiBPerSecond: > 0 } && Get("orleansbus", $"consume-{n}") is { } ours)
                rows.Add(new CompareRow(e, $"× raw read {n} conn", ours.MiBPerSecond / read.MiBPerSecond, null, null, null, null, "≥ 0.5× raw read",
                    ours.MiBPerSecond / read.MiBPerSecond >= 0.5));
        }
        return rows;
    }

    private static double? Ratio(double? ob, double? peer) => ob is { } x && peer is > 0 ? x / peer.Value : null;

    public static string Render(List<CompareRow> rows, List<WorkloadResult> results)
    {
        var sb = new StringBuilder();
        var width = rows.Count == 0 ? 48 : Math.Max(48, rows.Max(r => r.Workload.Length));
        sb.AppendLine(CultureInfo.InvariantCulture, $"{"workload".PadRight(width)} {"metric",-17} {"OrleansBus",11} {"Redis",11} {"NATS",11} {"OB/Redis",9} {"OB/NATS",9}  target");
        foreach (var r in rows)
        {
            var failed = (string system) => results.Exists(x => x.System == system && !x.Succeeded && r.Workload.Length > 0
                && Matches(x.Workload, r.Workload)) ? "FAILED" : "-";
            var verdict = r.Met is { } m ? m ? " — met" : " — NOT met" : "";
            var note = r.Note is null ? "" : r.Target.Length == 0 ? r.Note : $" ({r.Note})";
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"{r.Workload.PadRight(width)} {r.Metric,-17} {Cell(r.OrleansBus, failed("orleansbus")),11} {Cell(r.Redis, failed("redis")),11} {Cell(r.Nats, failed("nats")),11} " +
                $"{Ratio(r.OrleansBusPerRedis),9} {Ratio(r.OrleansBusPerNats),9}  {r.Target}{verdict}{note}");
        }
        return sb.ToString();
    }

    private static bool Matches(string workload, string label) => workload switch
    {
        "produce-a" => label.StartsWith("(a)", StringComparison.Ordinal),
        "fsync-b1" => label.StartsWith("(b1)", StringComparison.Ordinal),
        "fsync-b2" => label.StartsWith("(b2)", StringComparison.Ordinal),
        "latency-c" => label.StartsWith("(c)", StringComparison.Ordinal),
        "e2e" => label.StartsWith("(d)", StringComparison.Ordinal),
        _ when workload.StartsWith("read-", StringComparison.Ordinal) => label.StartsWith("raw read", StringComparison.Ordinal) && label.Contains($" {workload["read-".Length..]} conn", StringComparison.Ordinal),
        "start" => true, // the system never started: every row of it failed
        _ when workload.StartsWith("consume-", StringComparison.Ordinal) => label.Contains($"{workload["consume-".Length..]} consumer", StringComparison.Ordinal),
        _ => false,
    };

    private static string Cell(double? v, string missing) => v switch
    {
        null => missing,
        >= 100 => v.Value.ToString("N0", CultureInfo.InvariantCulture),
        >= 10 => v.Value.ToString("F1", CultureInfo.InvariantCulture),
        _ => v.Value.ToString("F2", CultureInfo.InvariantCulture),
    };

    private static string Ratio(double? v) => v is { } x ? x.ToString("F2", CultureInfo.InvariantCulture) + "×" : "";
}
