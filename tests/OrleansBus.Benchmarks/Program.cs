using System.Net;
using System.Text.Json;
using OrleansBus.Contracts;

namespace OrleansBus.Benchmarks;

/// <summary>
/// Load generator for one OrleansBus silo on loopback: an untimed warm-up, then timed produce, read and
/// consume phases that check every acknowledged message came back exactly once (or the end-to-end
/// latency phase), then a report. <see cref="PhasePlan"/> decides which phases run.
/// Exit codes: 0 success, 1 a request or the verification failed, 2 usage error.
/// </summary>
internal static class Program
{
    private const int Success = 0, Failed = 1, UsageError = 2;

    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "compare")
        {
            using var stop = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true; // let the workers stop and every started server be stopped by its PID
                stop.Cancel();
            };
            return await Compare.CompareCommand.RunAsync(args[1..], stop.Token);
        }
        if (args.Length > 0 && args[0] == "archive")
            return await ArchiveCommand.RunAsync(args[1..]);
        if (args.Length > 0 && args[0] == "mixed")
            return await MixedDurabilityCommand.RunAsync(args[1..], CancellationToken.None);
        var options = BenchOptions.Parse(args, out var error);
        if (error is not null)
        {
            await Console.Error.WriteLineAsync($"{error}\nRun with --help for usage.");
            return UsageError;
        }
        if (options.ShowHelp)
        {
            Console.Write(BenchOptions.Usage);
            return Success;
        }
        using var interrupted = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true; // stop the workers, yet still stop the silo and report what was measured
            interrupted.Cancel();
        };
        SiloProcess? silo = null;
        try
        {
            if (options.StartSilo)
            {
                var root = SiloProcess.FindRepoRoot();
                var dll = Path.Combine(root ?? "<repo root>", SiloProcess.RelativeDllPath);
                if (!File.Exists(dll))
                {
                    await Console.Error.WriteLineAsync($"{dll} is missing. Build the silo first:\n  cd {root ?? "<repo root>"} && dotnet build -c Release Silo");
                    return UsageError;
                }
                silo = await SiloProcess.StartAsync(dll, interrupted.Token);
                options.UseStartedSilo(silo.Url);
            }
            return await RunAsync(options, interrupted.Token);
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException or OperationCanceledException)
        {
            await Console.Error.WriteLineAsync(e switch
            {
                OperationCanceledException => "Interrupted.",
                HttpRequestException => $"{options.Url}: {e.Message}",
                _ => e.Message, // a failed silo start, with the silo's last output lines
            });
            return Failed;
        }
        finally
        {
            if (silo is not null)
                await silo.DisposeAsync();
        }
    }

    private static async Task<int> RunAsync(BenchOptions options, CancellationToken ct)
    {
        using var client = CreateClient(options.Url, options.Connections);
        Console.WriteLine($"target   {options.Url} category {options.Category}, mode {options.Mode.ToString().ToLowerInvariant()}, " +
            $"{options.MessageBytes} B messages, {options.RoundedBatchBytes} B batches, {options.Connections} connections, {options.Durability.ToWire()}");
        // Read, consume and e2e compare what comes back with what this run produced: old data would break that.
        if (options.NeedsNewCategory && (await ReadPhase.ListChunksAsync(client, options.Category, ct)).Length > 0)
        {
            await Console.Error.WriteLineAsync($"Category {options.Category} already has chunks. Pass a new --category, or --mode read / consume.");
            return UsageError;
        }
        if (options.WarmupMiB > 0)
        {
            // Untimed, to a separate category: JIT tiering, connection setup and the silo's first chunk files settle first.
            var warmup = BenchOptions.NewCategoryName("bench-warmup");
            var phases = await PhasePlan.RunAsync(client, options, warmup, options.WarmupMiB, isWarmup: true, ct);
            if (phases.Find(p => !p.Succeeded) is { } failed)
            {
                await Console.Error.WriteLineAsync($"Warm-up on {warmup} failed: {failed.Failure}");
                return Failed;
            }
            Console.WriteLine($"warmup   {options.WarmupMiB} MiB on {warmup} (untimed)");
        }
        var results = await PhasePlan.RunAsync(client, options, options.Category, options.TotalMiB, isWarmup: false, ct);
        var succeeded = results.Count > 0 && results.TrueForAll(p => p.Succeeded);
        Console.WriteLine(PhasePlan.Summary(options, results) + (succeeded ? " | OK" : " | FAILED"));
        if (options.JsonPath is not null)
        {
            var report = new BenchReport(options.Url.AbsoluteUri, options.Mode.ToString().ToLowerInvariant(), options.Category,
                options.Durability.ToWire(), options.MessageBytes, options.RoundedBatchBytes, options.ReadBytes, options.Connections,
                options.Consumers, options.Rate, [.. results], succeeded);
            await File.WriteAllBytesAsync(options.JsonPath, JsonSerializer.SerializeToUtf8Bytes(report, BenchJsonContext.Default.BenchReport), ct);
        }
        return succeeded ? Success : Failed;
    }

    /// <summary>A keep-alive client for up to <paramref name="connections"/> concurrent requests; one per consumer gives each its own connection.</summary>
    internal static HttpClient CreateClient(Uri url, int connections) =>
        new(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections, // one keep-alive connection per concurrent worker
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            UseProxy = false, // an http_proxy variable must never route loopback traffic elsewhere,
            AllowAutoRedirect = false, // nor a redirect lead off loopback
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
        })
        {
            BaseAddress = url,
            // An fsync of a 16 MiB batch queued behind others may take seconds; minutes means the silo is stuck.
            Timeout = TimeSpan.FromMinutes(2),
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
}
