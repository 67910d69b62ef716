using System.Net;

namespace OrleansBus.Benchmarks;

/// <summary>
/// Load generator for one OrleansBus silo on loopback: an untimed warm-up, a timed produce phase, a
/// timed read phase that verifies every acknowledged message came back exactly once, then a report.
/// Exit codes: 0 success, 1 a request or the verification failed, 2 usage error.
/// </summary>
internal static class Program
{
    private const int Success = 0;
    private const int Failed = 1;
    private const int UsageError = 2;

    public static async Task<int> Main(string[] args)
    {
        var options = BenchOptions.Parse(args, out var error);
        if (options.ShowHelp)
        {
            Console.Write(BenchOptions.Usage);
            return Success;
        }
        if (error is not null)
        {
            await Console.Error.WriteLineAsync($"{error}\nRun with --help for usage.");
            return UsageError;
        }

        using var interrupted = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // Stop the workers and still stop the silo and print what was measured.
            e.Cancel = true;
            interrupted.Cancel();
        };

        SiloProcess? silo = null;
        try
        {
            if (options.StartSilo)
            {
                var root = SiloProcess.FindRepoRoot();
                var dll = Path.Combine(root ?? ".", SiloProcess.RelativeDllPath);
                if (root is null || !File.Exists(dll))
                {
                    await Console.Error.WriteLineAsync(
                        $"The silo is not built ({dll} is missing). Build it first:\n  cd {root ?? "<repo root>"} && dotnet build -c Release Silo");
                    return UsageError;
                }
                silo = await SiloProcess.StartAsync(dll, interrupted.Token);
                options.UseStartedSilo(silo.Url);
                Console.WriteLine($"silo     started at {silo.Url}");
            }
            return await RunAsync(options, interrupted.Token);
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException or OperationCanceledException)
        {
            await Console.Error.WriteLineAsync(e is OperationCanceledException ? "Interrupted." : e.Message);
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
        using var client = CreateClient(options);
        Console.WriteLine($"target   {options.Url} category {options.Category}, {options.MessageBytes} B messages, " +
            $"{options.RoundedBatchBytes} B batches, {options.Connections} connections, {options.Durability}");
        if (options.Produces)
        {
            // The read phase compares the category's totals with what this run produced: old data would break that.
            var existing = await ReadPhase.ListChunksAsync(client, options.Category, ct);
            if (existing.Length > 0)
            {
                await Console.Error.WriteLineAsync(
                    $"Category {options.Category} already has {existing.Length} chunks. Pass a new --category, or --mode read to read it.");
                return UsageError;
            }
        }
        if (options.WarmupMiB > 0 && await WarmUpAsync(client, options, ct) is { } warmupFailure)
        {
            await Console.Error.WriteLineAsync($"Warm-up failed: {warmupFailure}");
            return Failed;
        }

        var phases = new List<PhaseResult>();
        ExpectedTotals? produced = null;
        if (options.Produces)
        {
            var produce = await new ProducePhase(client, options, options.Category, options.TotalMiB).RunAsync("produce", ct);
            phases.Add(produce);
            Console.WriteLine(produce.Describe());
            produced = new ExpectedTotals(produce.Messages, produce.Bytes);
        }
        // After a failed produce the totals cannot match; reading would only measure a broken run.
        if (options.Reads && (phases.Count == 0 || phases[0].Succeeded))
        {
            var read = await new ReadPhase(client, options, options.Category).RunAsync("read", produced, ct);
            phases.Add(read);
            Console.WriteLine(read.Describe());
        }

        Console.WriteLine(ResultsReport.Summary(options, phases));
        if (options.JsonPath is not null)
            ResultsReport.WriteJson(options.JsonPath, options, phases);
        foreach (var phase in phases)
        {
            if (!phase.Succeeded)
                return Failed;
        }
        return Success;
    }

    /// <summary>Untimed produce (and read back) to a separate category so JIT tiering and connections settle.</summary>
    private static async Task<string?> WarmUpAsync(HttpClient client, BenchOptions options, CancellationToken ct)
    {
        var category = BenchOptions.NewCategoryName("bench-warmup");
        var produce = await new ProducePhase(client, options, category, options.WarmupMiB).RunAsync("warmup", ct);
        if (!produce.Succeeded)
            return produce.Failure;
        if (options.Reads)
        {
            var read = await new ReadPhase(client, options, category)
                .RunAsync("warmup", new ExpectedTotals(produce.Messages, produce.Bytes), ct);
            if (!read.Succeeded)
                return read.Failure;
        }
        Console.WriteLine($"warmup   {options.WarmupMiB} MiB to {category} (untimed)");
        return null;
    }

    private static HttpClient CreateClient(BenchOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            // One keep-alive connection per worker: the run measures C streams of sequential requests.
            MaxConnectionsPerServer = options.Connections,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            // An http_proxy variable must never route loopback traffic elsewhere, nor a redirect lead off loopback.
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        return new HttpClient(handler)
        {
            BaseAddress = options.Url,
            // An fsync of a 16 MiB batch behind a queue of others can take seconds; minutes means the silo is stuck.
            Timeout = TimeSpan.FromMinutes(2),
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }
}
