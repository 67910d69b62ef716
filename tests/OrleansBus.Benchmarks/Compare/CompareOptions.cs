namespace OrleansBus.Benchmarks.Compare;

/// <summary>
/// Settings of <c>compare</c>: which systems, and how big each workload is. Every workload is bounded twice:
/// by its size and by <see cref="MaxPhaseSeconds"/>, so one slow peer cannot stretch the run past a few minutes.
/// Parsed by hand like <see cref="BenchOptions"/>; a bad value is a usage error (exit 2).
/// </summary>
internal sealed class CompareOptions
{
    public const string Usage = """
        Runs the same workloads against OrleansBus, Redis Streams and NATS JetStream, each started here on a free
        loopback port with a temporary data directory and stopped by PID afterwards, and prints one table.

        dotnet run -c Release --project tests/OrleansBus.Benchmarks -- compare [options]
        (tests/bench-compare.sh installs redis-server and nats-server, builds Release and runs this)

          --only LIST            comma list of orleansbus, redis, nats (default all three)
          --tiny                 a seconds-long smoke run: tiny sizes, no warm-up
          --mib N                (a) MiB of 100 B messages to produce in 1 MiB batches (default 128)
          --producers N          (b1), (b2) concurrent fsync producers (default 16)
          --fsync-batch N        (b2) 1 KiB messages per request (default 256; (b1) always sends 1)
          --fsync-seconds S      (b1), (b2) how long each produces (default 5)
          --rate R               (c), (d) messages per second (default 1000)
          --seconds S            (c), (d) how long (default 10)
          --consumers N[,N...]   (e) consumer counts, one phase each (default 1,4)
          --max-phase-seconds S  cap for (a) and each (e) phase (default 20)
          --warmup-mib K         untimed produce + consume (+ our raw read) per system first (default 32), then
                                 3 s of untimed single-message fsync produce (0 = no warm-up at all)
          --dd-mib N             MiB each machine dd writes, and the loopback measurement sends (default 256)
          --fdatasync-count N    machine: 1 KiB appends each timed with its fdatasync, capped at 10 s (default 1000)
          --http-client          our producers use HttpClient's synchronous Send instead of the hand-written
                                 HTTP/1.1 client (figures recorded before 2026-12-07 05:00 UTC used HttpClient)
          --json PATH            also write the table as JSON
          --help                 print this text

        """;

    public HashSet<string> Systems { get; } = ["orleansbus", "redis", "nats"];
    public bool Tiny { get; private set; }
    public int ProduceMiB { get; private set; } = 128;
    public int Producers { get; private set; } = 16;
    public int FsyncBatch { get; private set; } = 256;
    public double FsyncSeconds { get; private set; } = 5;
    public int Rate { get; private set; } = 1000;
    public double Seconds { get; private set; } = 10;
    public int[] Consumers { get; private set; } = [1, 4];
    public double MaxPhaseSeconds { get; private set; } = 20;
    public int WarmupMiB { get; private set; } = 32; // enough requests for both sides' JIT tiering to settle
    public int DdMiB { get; private set; } = 256;
    public int FdatasyncCount { get; private set; } = 1000;
    public string? JsonPath { get; private set; }
    public bool HttpClientProducers { get; private set; }
    public bool ShowHelp { get; private set; }

    public const int ProduceMessageBytes = 100, FsyncMessageBytes = 1024, LatencyMessageBytes = 100;
    public const int BatchBytes = BenchOptions.MiB, Connections = 4;

    public static CompareOptions Parse(string[] args, out string? error)
    {
        var o = new CompareOptions();
        error = null;
        for (var i = 0; i < args.Length && error is null; i++)
        {
            var equals = args[i].IndexOf('=', StringComparison.Ordinal);
            var (name, value) = equals > 0 ? (args[i][..equals], args[i][(equals + 1)..]) : (args[i], null);
            if (name is "--help" or "-h")
                o.ShowHelp = true;
            else if (name == "--http-client")
                o.HttpClientProducers = true;
            else if (name == "--tiny")
                o.MakeTiny();
            else if (value is null && i + 1 == args.Length)
                error = $"{name} needs a value (or is unknown).";
            else
                error = o.Apply(name, value ?? args[++i]);
        }
        return o;
    }

    // Seconds-long: what the smoke test runs. Explicit options given after --tiny still win.
    private void MakeTiny()
    {
        Tiny = true;
        (ProduceMiB, FsyncSeconds, Seconds, WarmupMiB, DdMiB, FdatasyncCount, MaxPhaseSeconds) = (2, 0.5, 0.5, 0, 8, 100, 5);
    }

    private string? Apply(string name, string value) => name switch
    {
        "--only" => ParseSystems(value),
        "--mib" => Int(name, value, 1, 65536, v => ProduceMiB = v),
        "--producers" => Int(name, value, 1, 256, v => Producers = v),
        "--fsync-batch" => Int(name, value, 1, 1024, v => FsyncBatch = v),
        "--fsync-seconds" => Real(name, value, 0.1, 600, v => FsyncSeconds = v),
        "--rate" => Int(name, value, 1, 100_000, v => Rate = v),
        "--seconds" => Real(name, value, 0.1, 600, v => Seconds = v),
        "--consumers" => ParseConsumers(value),
        "--max-phase-seconds" => Real(name, value, 1, 3600, v => MaxPhaseSeconds = v),
        "--warmup-mib" => Int(name, value, 0, 4096, v => WarmupMiB = v),
        "--dd-mib" => Int(name, value, 1, 65536, v => DdMiB = v),
        "--fdatasync-count" => Int(name, value, 1, 100_000, v => FdatasyncCount = v),
        "--json" => Set(() => JsonPath = value),
        _ => $"Unknown option '{name}'.",
    };

    private string? ParseSystems(string value)
    {
        Systems.Clear();
        foreach (var s in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (s is not ("orleansbus" or "redis" or "nats"))
                return $"--only '{s}' must be orleansbus, redis or nats.";
            Systems.Add(s);
        }
        return Systems.Count == 0 ? "--only needs at least one system." : null;
    }

    private string? ParseConsumers(string value)
    {
        var parts = value.Split(',');
        var counts = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (Int("--consumers", parts[i], 1, 64, v => counts[i] = v) is { } error)
                return error;
        }
        Consumers = counts;
        return null;
    }

    private static string? Set(Action set)
    {
        set();
        return null;
    }

    private static string? Int(string name, string value, int min, int max, Action<int> set) =>
        int.TryParse(value, out var v) && v >= min && v <= max ? Set(() => set(v)) : $"{name} '{value}' must be a whole number from {min} to {max}.";

    private static string? Real(string name, string value, double min, double max, Action<double> set) =>
        double.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
            ? Set(() => set(v)) : $"{name} '{value}' must be a number from {min} to {max}.";
}
