using System.Diagnostics;
using System.Globalization;

namespace OrleansBus.Benchmarks;

/// <summary>
/// <c>mixed</c>: one category shared by producers that want different guarantees — 16 fsync producers sending
/// 256 KiB batches back to back, and one page-cache producer sending single messages at a fixed 200/s — and the
/// page-cache producer's latency. It shows whether a page-cache append waits for its neighbours' fdatasync.
/// Starts its own silo (the Release build) on a free loopback port; bounded by <c>--seconds</c> (default 10).
/// </summary>
internal static class MixedDurabilityCommand
{
    private const int FsyncProducers = 16, FsyncBatchBytes = 256 * 1024, PageCacheRate = 200;

    public static async Task<int> RunAsync(string[] args, CancellationToken ct)
    {
        var seconds = 10.0;
        if (args.Length == 2 && args[0] == "--seconds" && double.TryParse(args[1], CultureInfo.InvariantCulture, out var s) && s is >= 2 and <= 600)
            seconds = s;
        else if (args.Length != 0)
        {
            await Console.Error.WriteLineAsync("usage: mixed [--seconds S]   (S from 2 to 600; default 10)");
            return 2;
        }
        var root = SiloProcess.FindRepoRoot() ?? throw new InvalidOperationException("No OrleansBus.sln above this program.");
        await using var silo = await SiloProcess.StartAsync(Compare.OrleansBusPeer.SiloDll(root), ct);
        var category = BenchOptions.NewCategoryName("mixed");
        using (var admin = Program.CreateClient(silo.Url, 1))
            (await admin.PutAsync($"v1/categories/{category}", new ByteArrayContent([]), ct)).EnsureSuccessStatusCode();

        var big = new byte[FsyncBatchBytes];
        for (var i = 0; i < big.Length; i++)
            big[i] = (byte)(i % 1024 == 1023 ? '\n' : 'x'); // 256 messages of 1 KiB
        var clock = Stopwatch.StartNew();
        long fsyncBytes = 0;
        // Threads, not pool tasks: 17 blocking clients would wait for the thread pool to grow.
        var producers = Enumerable.Range(0, FsyncProducers).Select(_ => new Thread(() =>
        {
            using var client = Program.CreateClient(silo.Url, 1);
            while (clock.Elapsed.TotalSeconds < seconds && !ct.IsCancellationRequested)
            {
                using var response = client.Send(new HttpRequestMessage(HttpMethod.Post, $"v1/categories/{category}/messages?durability=fsync") { Content = new ByteArrayContent(big) });
                response.EnsureSuccessStatusCode();
                Interlocked.Add(ref fsyncBytes, big.Length);
            }
        })).ToArray();
        foreach (var producer in producers)
            producer.Start();

        // Open loop at a fixed rate; the first second is left out (connections and JIT settle).
        var latency = new LatencyRecorder(4096);
        var small = "a page-cache message beside fsync producers\n"u8.ToArray();
        var pageCache = new Thread(() =>
        {
            using var client = Program.CreateClient(silo.Url, 1);
            var next = Stopwatch.GetTimestamp();
            while (clock.Elapsed.TotalSeconds < seconds && !ct.IsCancellationRequested)
            {
                next += Stopwatch.Frequency / PageCacheRate;
                while (Stopwatch.GetTimestamp() < next)
                    Thread.Sleep(0);
                var sent = Stopwatch.GetTimestamp();
                using var response = client.Send(new HttpRequestMessage(HttpMethod.Post, $"v1/categories/{category}/messages?durability=page-cache") { Content = new ByteArrayContent(small) });
                response.EnsureSuccessStatusCode();
                if (clock.Elapsed.TotalSeconds > 1)
                    latency.Record(Stopwatch.GetTimestamp() - sent);
            }
        });
        pageCache.Start();
        pageCache.Join();
        foreach (var producer in producers)
            producer.Join();
        var summary = LatencyRecorder.Summarize([latency]);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"mixed    page-cache producer ({PageCacheRate}/s offered, {latency.Count / (seconds - 1):F0}/s achieved) beside {FsyncProducers} fsync producers of 256 KiB: " +
            $"p50 {summary.P50:F2} p99 {summary.P99:F2} p999 {summary.P999:F2} ms; fsync producers {fsyncBytes / (double)BenchOptions.MiB / seconds:F0} MiB/s"));
        return 0;
    }
}
