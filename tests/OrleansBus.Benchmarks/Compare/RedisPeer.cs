using System.Text;

namespace OrleansBus.Benchmarks.Compare;

/// <summary>
/// Redis Streams: <c>redis-server</c> (apt) started here with AOF on and RDB snapshots off. Durability is switched
/// at run time with <c>CONFIG SET appendfsync</c>: <c>no</c> (the acknowledgement follows the write() to the
/// AOF, the kernel flushes when it likes) or <c>always</c> (Redis fsyncs the AOF before replying; one fsync
/// covers every command of an event-loop pass). A message is one entry <c>XADD key * d &lt;bytes&gt;</c>.
/// </summary>
internal sealed class RedisPeer : IPeer
{
    private PeerProcess? _process;
    private WireConnection? _admin;

    public string Name => "redis";
    public string Version { get; } = PeerProcess.FirstLineOf("redis-server", "--version") ?? "redis-server not found";
    private int Port => _process?.Port ?? throw new InvalidOperationException("redis-server is not started");

    public string Describe(AckDurability durability) => durability == AckDurability.Fsync
        ? "appendonly yes, appendfsync always"
        : "appendonly yes, appendfsync no";

    public async Task StartAsync(CancellationToken ct)
    {
        var port = PeerProcess.FreeLoopbackPort();
        var dir = Directory.CreateTempSubdirectory("orleansbus-compare-redis-").FullName;
        // No RDB snapshots and no AOF rewrites during the run: both fork and copy the data set mid-measurement.
        string[] args = ["--bind", "127.0.0.1", "--port", $"{port}", "--dir", dir, "--save", "", "--appendonly", "yes",
            "--appendfsync", "no", "--auto-aof-rewrite-percentage", "0", "--daemonize", "no", "--protected-mode", "yes"];
        _process = await PeerProcess.StartAsync("redis-server", "redis-server", args, port, dir, ct);
        _admin = WireConnection.Connect(port);
        Resp.Command(_admin, "PING");
        Resp.Skip(_admin);
        Console.WriteLine($"redis    pid {_process.Pid} at 127.0.0.1:{port}, data in {dir} ({Version})");
    }

    public Task ConfigureAsync(AckDurability durability, CancellationToken ct)
    {
        Resp.Command(_admin!, "CONFIG", "SET", "appendfsync", durability == AckDurability.Fsync ? "always" : "no");
        Resp.Skip(_admin!);
        return Task.CompletedTask;
    }

    public void CreateStream(string stream)
    {
        // XADD creates the stream; a DEL makes a reused name empty.
        Resp.Command(_admin!, "DEL", stream);
        Resp.Skip(_admin!);
    }

    public void CreateGroup(string stream, string group, bool fromStart)
    {
        Resp.Command(_admin!, "XGROUP", "CREATE", stream, group, fromStart ? "0" : "$", "MKSTREAM");
        Resp.Skip(_admin!);
    }

    public void DropStream(string stream) => CreateStream(stream);

    public IProducerClient OpenProducer(string stream) => new Producer(WireConnection.Connect(Port), Encoding.UTF8.GetBytes(stream));

    public IConsumerClient OpenConsumer(string stream, string group, string consumer) =>
        new RedisConsumer(WireConnection.Connect(Port), stream, group, consumer);

    public async ValueTask DisposeAsync()
    {
        _admin?.Dispose();
        if (_process is not null)
            await _process.DisposeAsync();
    }

    /// <summary>One batch = one pipelined write of N XADDs, then N replies (each the new entry's id).</summary>
    private sealed class Producer(WireConnection connection, byte[] key) : IProducerClient
    {
        public void Produce(ReadOnlyMemory<byte> batch, int messageBytes)
        {
            var messages = batch.Span;
            var count = messages.Length / messageBytes;
            for (var i = 0; i < count; i++)
            {
                Resp.BeginCommand(connection, 5);
                Resp.Arg(connection, "XADD"u8);
                Resp.Arg(connection, key);
                Resp.Arg(connection, "*"u8);
                Resp.Arg(connection, "d"u8);
                Resp.Arg(connection, messages.Slice(i * messageBytes, messageBytes));
            }
            connection.Flush();
            for (var i = 0; i < count; i++)
                Resp.ReadBulk(connection);
        }

        public void Dispose() => connection.Dispose();
    }
}
