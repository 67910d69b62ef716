using System.Text;

namespace OrleansBus.Benchmarks.Compare;

/// <summary>
/// NATS JetStream: <c>nats-server -js</c> (apt) with a file store in a temporary directory; one stream per workload
/// (file storage, one replica, subject = stream name). A produce is a publish with a reply subject, acknowledged
/// by JetStream once stored; a batch publishes all its messages, then waits for all acks (the window is the batch).
/// Durability: nats-server 2.10+ has <c>jetstream { sync_interval: always }</c> (fsync before the ack); the
/// server is restarted with it for fsync workloads. Older servers (Debian 12 ships 2.9.10) reject that option and
/// cannot fsync per write at all: there the fsync workloads run with the default (flushed to the OS, synced in the
/// background) and the report says the durability is weaker than the other systems'.
/// </summary>
internal sealed class NatsPeer : IPeer
{
    private PeerProcess? _process;
    private NatsClient? _admin;
    private AckDurability _running = AckDurability.PageCache;

    public string Name => "nats";
    public string Version { get; } = PeerProcess.FirstLineOf("nats-server", "--version") ?? "nats-server not found";

    /// <summary>"nats-server: v2.9.10" → true from 2.10 on.</summary>
    public bool SupportsSyncAlways => System.Version.TryParse(Version[(Version.LastIndexOf('v') + 1)..], out var v) && v >= new Version(2, 10);

    private int Port => _process?.Port ?? throw new InvalidOperationException("nats-server is not started");

    public string Describe(AckDurability durability) => durability == AckDurability.PageCache
        ? "JetStream file store default (no fsync per write)"
        : SupportsSyncAlways ? "JetStream sync_interval: always"
        : "NOT fsynced: this nats-server has no sync_interval (needs 2.10+), file store default";

    public Task StartAsync(CancellationToken ct) => StartAsync(AckDurability.PageCache, ct);

    private async Task StartAsync(AckDurability durability, CancellationToken ct)
    {
        var port = PeerProcess.FreeLoopbackPort();
        var dir = Directory.CreateTempSubdirectory("orleansbus-compare-nats-").FullName;
        var sync = durability == AckDurability.Fsync && SupportsSyncAlways ? ", sync_interval: always" : "";
        var config = Path.Combine(dir, "nats.conf");
        await File.WriteAllTextAsync(config, $"listen: \"127.0.0.1:{port}\"\njetstream {{ store_dir: \"{Path.Combine(dir, "store")}\"{sync} }}\n", ct);
        _process = await PeerProcess.StartAsync("nats-server", "nats-server", ["-c", config], port, dir, ct);
        _admin = NatsClient.Connect(port);
        _admin.Request("$JS.API.INFO", ""); // JetStream is up, not only the listener
        _running = durability;
        Console.WriteLine($"nats     pid {_process.Pid} at 127.0.0.1:{port}, store in {dir} ({Version}; {Describe(durability)})");
    }

    public async Task ConfigureAsync(AckDurability durability, CancellationToken ct)
    {
        if (durability == _running || !SupportsSyncAlways)
            return; // nothing to change: the same server serves both (see Describe)
        await StopAsync();
        await StartAsync(durability, ct);
    }

    public void CreateStream(string stream) => _admin!.Request($"$JS.API.STREAM.CREATE.{stream}",
        $"{{\"name\":\"{stream}\",\"subjects\":[\"{stream}\"],\"storage\":\"file\",\"num_replicas\":1,\"retention\":\"limits\",\"discard\":\"old\"}}");

    public void DropStream(string stream) => _admin!.Request($"$JS.API.STREAM.DELETE.{stream}", "");

    /// <summary>A durable pull consumer; explicit acks, 60 s ack wait, no cap on unacknowledged messages in practice.</summary>
    public void CreateGroup(string stream, string group, bool fromStart) => _admin!.Request($"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.{group}",
        $"{{\"stream_name\":\"{stream}\",\"config\":{{\"durable_name\":\"{group}\",\"deliver_policy\":\"{(fromStart ? "all" : "new")}\"," +
        "\"ack_policy\":\"explicit\",\"ack_wait\":60000000000,\"max_ack_pending\":10000000,\"max_waiting\":512,\"replay_policy\":\"instant\"}}");

    public IProducerClient OpenProducer(string stream) => new Producer(NatsClient.Connect(Port), Encoding.ASCII.GetBytes(stream));

    public IConsumerClient OpenConsumer(string stream, string group, string consumer) => new NatsConsumer(NatsClient.Connect(Port), stream, group);

    private async Task StopAsync()
    {
        _admin?.Dispose();
        _admin = null;
        if (_process is not null)
            await _process.DisposeAsync();
        _process = null;
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    /// <summary>Publishes a batch with one reply subject for all acks, then reads as many acks; an error ack throws.</summary>
    private sealed class Producer(NatsClient client, byte[] subject) : IProducerClient
    {
        private readonly byte[] _acks = Encoding.ASCII.GetBytes(client.Inbox + ".a");

        public void Produce(ReadOnlyMemory<byte> batch, int messageBytes)
        {
            var messages = batch.Span;
            var count = messages.Length / messageBytes;
            for (var i = 0; i < count; i++)
                client.Publish(subject, _acks, messages.Slice(i * messageBytes, messageBytes));
            client.Flush();
            for (var acked = 0; acked < count;)
            {
                if (!client.TryNext(NatsClient.ReplyTimeoutMs, out var m))
                    throw new TimeoutException($"nats: {acked} of {count} publish acks within {NatsClient.ReplyTimeoutMs / 1000} s");
                if (!m.Subject.SequenceEqual(_acks))
                    continue;
                if (m.Status != 0 || m.Payload.IndexOf("\"error\""u8) >= 0)
                    throw new IOException($"nats: publish answered {m.Status} {Encoding.UTF8.GetString(m.Payload)}");
                acked++;
            }
        }

        public void Dispose() => client.Dispose();
    }
}
