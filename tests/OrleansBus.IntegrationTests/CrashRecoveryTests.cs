using System.Net.Http.Json;
using System.Text;
using OrleansBus.Contracts;
using OrleansBus.Testing;

namespace OrleansBus.IntegrationTests;

/// <summary>
/// A silo process is SIGKILLed while producers stream fsync batches into it, then restarted on the
/// same data directory. Every message the silo acknowledged before the kill, and every one after the
/// restart, must be readable exactly once; batches cut off by the kill were never acknowledged and may
/// be present (whole) or absent, never partial.
/// </summary>
public sealed class CrashRecoveryTests
{
    private const int TotalMessages = 100_000;
    private const int MessagesPerBatch = 100;
    private const int Producers = 4;
    private const int KillAfterAcknowledged = 40_000;

    [Fact]
    public async Task Every_acknowledged_fsync_message_survives_a_SIGKILL_exactly_once()
    {
        using var dir = new TempDirectory("crash");
        await using var silo = new SiloProcess(dir.Combine("data"), "crash1");
        await silo.StartAsync();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var run = new ProduceRun(TotalMessages / MessagesPerBatch);

        // Phase 1: produce until the kill; requests in flight at the kill fail and stay unacknowledged.
        var killed = false;
        var producers = Enumerable.Range(0, Producers).Select(_ => run.ProduceAsync(http, silo.BaseUrl, () => killed)).ToArray();
        await run.WaitForAcknowledgedAsync(KillAfterAcknowledged * 1L / MessagesPerBatch, TimeSpan.FromSeconds(120));
        killed = true;
        await silo.KillAsync();
        await Task.WhenAll(producers);
        var acknowledgedBeforeKill = run.Acknowledged.Count;
        Assert.True(run.NextBatch < run.TotalBatches, "The producers finished before the kill: nothing was mid-stream.");

        // Phase 2: restart (recovery runs before ready) and produce the rest.
        await silo.RestartAsync();
        killed = false;
        await Task.WhenAll(Enumerable.Range(0, Producers).Select(_ => run.ProduceAsync(http, silo.BaseUrl, () => killed)));
        Assert.Equal(run.TotalBatches, run.NextBatch);

        var counts = await ReadAllAsync(http, silo.BaseUrl);
        foreach (var batch in run.Acknowledged.Keys)
        {
            for (var m = batch * MessagesPerBatch; m < (batch + 1) * MessagesPerBatch; m++)
                Assert.True(counts[m] == 1, $"Acknowledged message {m} was read {counts[m]} times (silo log: {silo.LogPath}).");
        }
        foreach (var batch in run.Failed.Keys)
        {
            var present = counts[batch * MessagesPerBatch];
            for (var m = batch * MessagesPerBatch; m < (batch + 1) * MessagesPerBatch; m++)
                Assert.True(counts[m] == present && present <= 1, $"Unacknowledged batch {batch} is partially present or duplicated.");
        }
        Assert.True(acknowledgedBeforeKill * MessagesPerBatch >= KillAfterAcknowledged);
        Assert.Equal(run.TotalBatches, run.Acknowledged.Count + run.Failed.Count);
    }

    private static async Task<int[]> ReadAllAsync(HttpClient http, string baseUrl)
    {
        var counts = new int[TotalMessages];
        var chunks = await http.GetFromJsonAsync<ChunkInfo[]>($"{baseUrl}/v1/categories/crash/chunks");
        Assert.NotNull(chunks);
        Assert.Contains(chunks, c => c.State is "sealed" or "archived"); // the chunk active at the kill was recovered and sealed (then archived)
        foreach (var chunk in chunks)
        {
            long offset = 0;
            while (offset < chunk.Size)
            {
                using var response = await http.GetAsync($"{baseUrl}/v1/categories/crash/chunks/{chunk.Name}?offset={offset}&max_bytes=1048576");
                response.EnsureSuccessStatusCode();
                var body = await response.Content.ReadAsStringAsync();
                foreach (var line in body.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                    counts[int.Parse(line.AsSpan(2, 6), provider: System.Globalization.CultureInfo.InvariantCulture)]++;
                offset = long.Parse(response.Headers.GetValues(BusHeaders.NextOffset).Single(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        return counts;
    }

    /// <summary>Hands out batch numbers to concurrent producers and records which were acknowledged.</summary>
    private sealed class ProduceRun(int totalBatches)
    {
        private int _next = -1;
        public int TotalBatches { get; } = totalBatches;
        public int NextBatch => Math.Min(Volatile.Read(ref _next) + 1, TotalBatches);
        public System.Collections.Concurrent.ConcurrentDictionary<int, bool> Acknowledged { get; } = new();
        public System.Collections.Concurrent.ConcurrentDictionary<int, bool> Failed { get; } = new();

        public async Task ProduceAsync(HttpClient http, string baseUrl, Func<bool> killed)
        {
            while (!killed())
            {
                var batch = Interlocked.Increment(ref _next);
                if (batch >= TotalBatches)
                    return;
                var body = new StringBuilder(MessagesPerBatch * 40);
                for (var m = batch * MessagesPerBatch; m < (batch + 1) * MessagesPerBatch; m++)
                    body.Append("m-").Append(m.ToString("D6", System.Globalization.CultureInfo.InvariantCulture)).Append("-payload-of-the-crash-test\n");
                try
                {
                    using var response = await http.PostAsync($"{baseUrl}/v1/categories/crash/messages?durability=fsync", new StringContent(body.ToString()));
                    if (response.IsSuccessStatusCode)
                    {
                        var result = await response.Content.ReadFromJsonAsync<ProduceResult>();
                        Assert.Equal("fsync", result!.Durability);
                        Acknowledged[batch] = true;
                        continue;
                    }
                    Failed[batch] = true;
                }
                catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
                {
                    Failed[batch] = true;
                }
                if (!killed())
                    throw new InvalidOperationException($"Batch {batch} failed while the silo was meant to be up.");
            }
        }

        public async Task WaitForAcknowledgedAsync(long batches, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (Acknowledged.Count < batches)
            {
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"Only {Acknowledged.Count} of {batches} batches were acknowledged within {timeout}.");
                await Task.Delay(5);
            }
        }
    }
}
