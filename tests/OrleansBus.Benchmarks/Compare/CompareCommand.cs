using System.Text.Json;

namespace OrleansBus.Benchmarks.Compare;

/// <summary>
/// <c>compare</c>: measures the machine's limits, then starts each selected system in turn (never two at once, so
/// they do not share the 2 cores), runs <see cref="PeerSuite"/> against it, stops it by PID, and prints one table.
/// Exit codes: 0 every workload ran and was verified, 1 some failed (the table still prints), 2 usage error or a
/// server binary is missing.
/// </summary>
internal static class CompareCommand
{
    public static async Task<int> RunAsync(string[] args, CancellationToken ct)
    {
        var o = CompareOptions.Parse(args, out var error);
        if (error is not null)
        {
            await Console.Error.WriteLineAsync($"{error}\nRun compare --help for usage.");
            return 2;
        }
        if (o.ShowHelp)
        {
            Console.Write(CompareOptions.Usage);
            return 0;
        }
        var peers = new List<Func<IPeer>>();
        if (o.Systems.Contains("orleansbus"))
            peers.Add(() => new OrleansBusPeer(o.HttpClientProducers));
        foreach (var (name, binary, create) in (ValueTuple<string, string, Func<IPeer>>[])[("redis", "redis-server", () => new RedisPeer()), ("nats", "nats-server", () => new NatsPeer())])
        {
            if (!o.Systems.Contains(name))
                continue;
            if (PeerProcess.FirstLineOf(binary, "--version") is null)
            {
                await Console.Error.WriteLineAsync($"{binary} is not installed: apt-get install {binary} (tests/bench-compare.sh does it), or leave {name} out with --only.");
                return 2;
            }
            peers.Add(create);
        }
        var started = DateTimeOffset.UtcNow;
        var memKiB = MemTotalKiB();
        Console.WriteLine($"compare  {started:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {memKiB / 1024} MiB memory, .NET {Environment.Version}" +
            (o.Tiny ? ", --tiny" : ""));
        var limits = MachineLimits.Measure(o.DdMiB, o.FdatasyncCount);
        Console.WriteLine("machine  " + MachineLimits.Describe(limits));
        var (results, versions, pageCache, fsync) = (new List<WorkloadResult>(), new Dictionary<string, string>(), new Dictionary<string, string>(), new Dictionary<string, string>());
        foreach (var create in peers)
        {
            await using var peer = create();
            (versions[peer.Name], pageCache[peer.Name], fsync[peer.Name]) = (peer.Version, peer.Describe(AckDurability.PageCache), peer.Describe(AckDurability.Fsync));
            Console.WriteLine($"durability {peer.Name}: page-cache = {pageCache[peer.Name]}; fsync = {fsync[peer.Name]}");
            try
            {
                await peer.StartAsync(ct);
                await PeerSuite.RunAsync(peer, o, results, ct);
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or HttpRequestException or RespException)
            {
                results.Add(new WorkloadResult("start", peer.Name, 0, 0, 0, default, e.Message));
                await Console.Error.WriteLineAsync($"{peer.Name}: {e.Message}");
            }
            if (ct.IsCancellationRequested)
                break;
        }
        var rows = CompareTable.Build(results, limits, o);
        Console.WriteLine();
        Console.Write(CompareTable.Render(rows, results));
        var succeeded = results.Count > 0 && results.TrueForAll(r => r.Succeeded);
        Console.WriteLine(succeeded ? "compare: OK" : "compare: FAILED: " + string.Join("; ", results.Where(r => !r.Succeeded).Select(r => $"{r.System} {r.Workload}: {r.Failure}")));
        if (o.JsonPath is not null)
        {
            var report = new CompareReport(started, Environment.ProcessorCount, memKiB, versions, pageCache, fsync, limits, [.. rows], [.. results], succeeded);
            await File.WriteAllBytesAsync(o.JsonPath, JsonSerializer.SerializeToUtf8Bytes(report, CompareJsonContext.Default.CompareReport), ct);
        }
        return succeeded ? 0 : 1;
    }

    private static long MemTotalKiB()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
                    return long.Parse(line["MemTotal:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        catch (IOException)
        {
        }
        return 0;
    }
}
