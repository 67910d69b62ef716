using System.Security.Cryptography;
using OrleansBus.Contracts;

namespace OrleansBus.Benchmarks;

/// <summary><c>all</c> = produce, read, consume; <c>e2e</c> = the rate-limited end-to-end latency phase alone.</summary>
internal enum BenchMode { Both, Produce, Read, Consume, All, E2e }

/// <summary>
/// Command-line settings, parsed by hand so the benchmark needs nothing beyond Contracts.
/// Every bound below exists for a reason named beside it; a bad value is a usage error (exit 2).
/// </summary>
internal sealed class BenchOptions
{
    public const int MiB = 1024 * 1024;

    // The read phase keeps one bit per message; 64 GiB of 16-byte messages is a 512 MiB bit set.
    private const long MaxTotalMiB = 64 * 1024;

    // 12 sequence digits + a space + at least one filler byte + '\n'.
    private const int MinMessageBytes = ProducePhase.SequenceDigits + 4;

    // One consume phase per --consumers value; each worker is a task with its own connection.
    private const int MaxConsumers = 256, MaxConsumerRuns = 16;

    // The end-to-end phase keeps one latency sample (8 bytes) per message.
    private const long MaxEndToEndMessages = 10_000_000;

    public const string Usage = """
        OrleansBus load generator: produce, read back and consume a category over HTTP on loopback,
        or measure produce-to-consume latency at a fixed rate.

        dotnet run -c Release --project tests/OrleansBus.Benchmarks -- [options]
        dotnet run -c Release --project tests/OrleansBus.Benchmarks -- compare [--help]   (vs Redis and NATS)
        dotnet run -c Release --project tests/OrleansBus.Benchmarks -- mixed [--seconds S]  (page-cache latency beside fsync producers)

          --url URL              silo base address, loopback only (default http://127.0.0.1:8080)
          --start-silo           start Silo/bin/Release/net10.0/OrleansBus.Silo.dll on a free port
                                 with a temporary data directory instead of using --url
          --mode M               produce | read | both | consume | all | e2e (default both);
                                 all = produce, read, consume; e2e = end-to-end latency alone
          --category NAME        category to use (default bench-<random>; must be new unless --mode read)
          --mib N                MiB to produce, rounded down to whole messages (default 1024)
          --message-bytes N      bytes per message including '\n' (default 100, min 16)
          --batch-bytes N        bytes per produce request, rounded down to whole messages (default 1048576)
          --durability D         page-cache | fsync (default page-cache)
          --min-sync-replicas N  produce waits until N replicas hold each batch (a cluster; default 0)
          --connections N        concurrent keep-alive connections and workers (default 4)
          --read-bytes N         max_bytes per read and consume poll (default 1048576; up to 16777216)
          --consumers N[,N...]   consume phases, one per value, each N consumers on a fresh group (default 1)
          --rate R               e2e: single-message produce requests per second (default 1000)
          --seconds S            e2e: how long to produce (default 10)
          --warmup-mib K         untimed produce (and read) of K MiB to another category first (default 64; 0 = none)
          --json PATH            also write the results as JSON
          --help                 print this text

        Exit codes: 0 success, 1 a request or the verification failed, 2 usage error.

        """;

    private static readonly string[] ValueOptions = ["--url", "--mode", "--category", "--durability", "--json", "--min-sync-replicas",
        "--mib", "--warmup-mib", "--message-bytes", "--batch-bytes", "--read-bytes", "--connections", "--consumers", "--rate", "--seconds"];

    public Uri Url { get; private set; } = new("http://127.0.0.1:8080/");
    public bool StartSilo { get; private set; }
    public BenchMode Mode { get; private set; } = BenchMode.Both;
    public string Category { get; private set; } = NewCategoryName("bench");
    public long TotalMiB { get; private set; } = 1024;
    public int MessageBytes { get; private set; } = 100;
    public int BatchBytes { get; private set; } = MiB;
    public Durability Durability { get; private set; } = Durability.PageCache;
    public int MinSyncReplicas { get; private set; }

    /// <summary>The produce query: durability, and min_sync_replicas when asked for.</summary>
    public string ProduceQuery => $"durability={Durability.ToWire()}" + (MinSyncReplicas > 0 ? $"&min_sync_replicas={MinSyncReplicas}" : "");
    public int Connections { get; private set; } = 4;
    public int ReadBytes { get; private set; } = MiB;
    public long WarmupMiB { get; private set; } = 64;
    public int[] Consumers { get; private set; } = [1];
    public int Rate { get; private set; } = 1000;
    public int Seconds { get; private set; } = 10;
    public string? JsonPath { get; private set; }
    public bool ShowHelp { get; private set; }
    private bool _urlGiven;

    public bool Produces => Mode is BenchMode.Both or BenchMode.Produce or BenchMode.All;
    public bool Reads => Mode is BenchMode.Both or BenchMode.Read or BenchMode.All;
    public bool Consumes => Mode is BenchMode.Consume or BenchMode.All;
    public bool EndToEnd => Mode == BenchMode.E2e;
    /// <summary>Phases that check what they get back against what this run wrote need a category without old data.</summary>
    public bool NeedsNewCategory => Produces || EndToEnd;
    public int MessagesPerBatch => BatchBytes / MessageBytes; // rounded down: a batch holds whole messages
    public int RoundedBatchBytes => MessagesPerBatch * MessageBytes;

    /// <summary>With <c>--start-silo</c> the target is the child silo, whose port is known only once it runs.</summary>
    public void UseStartedSilo(Uri url) => Url = url;

    public static string NewCategoryName(string prefix) => $"{prefix}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";

    /// <summary>Parses <c>--name value</c> and <c>--name=value</c>; returns an error text instead of throwing.</summary>
    public static BenchOptions Parse(string[] args, out string? error)
    {
        var options = new BenchOptions();
        error = null;
        for (var i = 0; i < args.Length && error is null; i++)
        {
            var equals = args[i].IndexOf('=', StringComparison.Ordinal);
            var (name, value) = equals > 0 ? (args[i][..equals], args[i][(equals + 1)..]) : (args[i], null);
            if (name == "--start-silo")
                options.StartSilo = true;
            else if (name is "--help" or "-h")
                options.ShowHelp = true;
            else if (!ValueOptions.Contains(name))
                error = $"Unknown option '{name}'.";
            else if (value is null && i + 1 == args.Length)
                error = $"{name} needs a value.";
            else
                error = options.Apply(name, value ?? args[++i]);
        }
        if (error is null && options.StartSilo && options._urlGiven)
            error = "--url and --start-silo exclude each other: --start-silo picks its own port.";
        if (error is null && options.MessageBytes > options.BatchBytes)
            error = $"--batch-bytes {options.BatchBytes} is smaller than one message ({options.MessageBytes} bytes).";
        if (error is null && options.EndToEnd && options.MessageBytes < EndToEndPhase.MinMessageBytes)
            error = $"--mode e2e needs --message-bytes of at least {EndToEndPhase.MinMessageBytes} (sequence number and send time).";
        if (error is null && options.EndToEnd && (long)options.Rate * options.Seconds > MaxEndToEndMessages)
            error = $"--rate times --seconds must be at most {MaxEndToEndMessages} messages.";
        return options;
    }

    private string? Apply(string name, string value)
    {
        switch (name)
        {
            case "--url":
                if (!Uri.TryCreate(value, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                    return $"--url '{value}' is not an absolute http(s) URL.";
                if (!url.IsLoopback)
                    return $"--url '{value}' is not loopback; this tool only talks to 127.0.0.1 / localhost.";
                // A trailing slash keeps a path prefix when relative request paths are resolved against it.
                Url = url.AbsolutePath.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/");
                _urlGiven = true;
                return null;
            case "--mode":
                if (!Enum.TryParse<BenchMode>(value, ignoreCase: true, out var mode) || !Enum.IsDefined(mode))
                    return $"--mode '{value}' must be produce, read, both, consume, all or e2e.";
                Mode = mode;
                return null;
            case "--category":
                Category = value;
                return CategoryName.Explain(value);
            case "--min-sync-replicas":
                if (!int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var replicas) || replicas > 16)
                    return $"--min-sync-replicas '{value}' must be an integer from 0 to 16.";
                MinSyncReplicas = replicas;
                return null;
            case "--durability":
                if (!DurabilityNames.TryParse(value, out var durability))
                    return $"--durability '{value}' must be {DurabilityNames.PageCache} or {DurabilityNames.Fsync}.";
                Durability = durability;
                return null;
            case "--json":
                JsonPath = value;
                return null;
            case "--mib":
                return ParseRange(name, value, 1, MaxTotalMiB, v => TotalMiB = v);
            case "--warmup-mib":
                return ParseRange(name, value, 0, MaxTotalMiB, v => WarmupMiB = v);
            case "--message-bytes":
                return ParseRange(name, value, MinMessageBytes, BusLimits.DefaultMaxMessageBytes, v => MessageBytes = (int)v);
            case "--batch-bytes":
                return ParseRange(name, value, MinMessageBytes, BusLimits.DefaultMaxRequestBytes, v => BatchBytes = (int)v);
            case "--read-bytes":
                return ParseRange(name, value, 1, BusLimits.DefaultMaxReadBytes, v => ReadBytes = (int)v);
            case "--connections":
                // Each connection is one worker task; beyond a few hundred the client, not the silo, is measured.
                return ParseRange(name, value, 1, 256, v => Connections = (int)v);
            case "--consumers":
                return ParseConsumers(value);
            case "--rate":
                return ParseRange(name, value, 1, 100_000, v => Rate = (int)v);
            case "--seconds":
                return ParseRange(name, value, 1, 3600, v => Seconds = (int)v);
            default:
                return $"Unknown option '{name}'.";
        }
    }

    private string? ParseConsumers(string value)
    {
        var parts = value.Split(',');
        if (parts.Length > MaxConsumerRuns)
            return $"--consumers '{value}' lists more than {MaxConsumerRuns} values.";
        var counts = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (ParseRange("--consumers", parts[i], 1, MaxConsumers, v => counts[i] = (int)v) is { } error)
                return error;
        }
        Consumers = counts;
        return null;
    }

    private static string? ParseRange(string name, string value, long min, long max, Action<long> set)
    {
        if (!long.TryParse(value, out var number) || number < min || number > max)
            return $"{name} '{value}' must be a whole number from {min} to {max}.";
        set(number);
        return null;
    }
}
