using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using OrleansBus.Contracts;

namespace OrleansBus.Benchmarks.Compare;

/// <summary>
/// Our silo, the embedded default (SQLite metadata, local archive), started by <see cref="SiloProcess"/> from the
/// build of the same configuration as this benchmark. Durability is per request (<c>?durability=</c>), so nothing
/// restarts between workloads. Producers write HTTP/1.1 onto a blocking keep-alive socket like the Redis and NATS clients
/// (<see cref="WireHttpProducer"/>; <c>--http-client</c>: HttpClient's synchronous <c>Send</c> instead); consumers and
/// the set-up calls use HttpClient.
/// </summary>
internal sealed class OrleansBusPeer(bool httpClientProducers = false) : IPeer
{
    private static readonly MediaTypeHeaderValue OctetStream = new("application/octet-stream"), Json = new("application/json");
    private readonly ConcurrentDictionary<string, bool> _groupsFromStart = new();
    private SiloProcess? _silo;
    private HttpClient? _admin;
    private AckDurability _durability;

    public string Name => "orleansbus";
    public string Version => "this repository (" + Configuration + ")";
    public Uri Url => _silo?.Url ?? throw new InvalidOperationException("the silo is not started");

    /// <summary>Release or Debug: whichever this benchmark was built in, so it never starts a stale silo of the other.</summary>
    public static string Configuration => AppContext.BaseDirectory.Replace('\\', '/').Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";

    public static string SiloDll(string root) => Path.Combine(root, "Silo", "bin", Configuration, "net10.0", "OrleansBus.Silo.dll");

    public string Describe(AckDurability durability) => durability == AckDurability.Fsync ? "durability=fsync" : "durability=page-cache";

    public async Task StartAsync(CancellationToken ct)
    {
        var root = SiloProcess.FindRepoRoot() ?? throw new InvalidOperationException("No OrleansBus.sln above this program.");
        var dll = SiloDll(root);
        if (!File.Exists(dll))
            throw new InvalidOperationException($"{dll} is missing. Build it first: dotnet build -c {Configuration} Silo");
        _silo = await SiloProcess.StartAsync(dll, ct);
        _admin = Program.CreateClient(_silo.Url, 1);
    }

    public Task ConfigureAsync(AckDurability durability, CancellationToken ct)
    {
        _durability = durability;
        return Task.CompletedTask;
    }

    public void CreateStream(string stream)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"v1/categories/{stream}") { Content = new ByteArrayContent([]) };
        using var response = _admin!.Send(request);
        Ensure(response, $"create {stream}");
    }

    public void CreateGroup(string stream, string group, bool fromStart)
    {
        _groupsFromStart[group] = fromStart;
        if (fromStart)
            return; // created by the consumers' first poll with start=earliest
        // A poll on the empty category creates the group at the latest position (204: nothing yet).
        using var consumer = OpenConsumer(stream, group, "creator");
        if (consumer.FetchAndAck(1, 4096, 0, static _ => { }) != 0)
            throw new InvalidOperationException($"group {group} on the new category {stream} got messages");
    }

    /// <summary>
    /// Deletes the category and waits until it is gone (GET answers 404): the deletion runs in the background, and its
    /// file deletions must not land in the next workload's measurement (Redis and NATS delete before they answer).
    /// </summary>
    public void DropStream(string stream)
    {
        using (var response = _admin!.Send(new HttpRequestMessage(HttpMethod.Delete, $"v1/categories/{stream}")))
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
                return;
            Ensure(response, $"delete {stream}");
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            using var get = _admin.Send(new HttpRequestMessage(HttpMethod.Get, $"v1/categories/{stream}"));
            if (get.StatusCode == HttpStatusCode.NotFound)
                return;
            Thread.Sleep(50);
        }
        throw new TimeoutException($"delete {stream}: still being deleted after 60 s");
    }

    public IProducerClient OpenProducer(string stream)
    {
        var durability = _durability == AckDurability.Fsync ? "fsync" : "page-cache";
        return httpClientProducers
            ? new Producer(Program.CreateClient(Url, 1), new Uri(Url, $"v1/categories/{stream}/messages?durability={durability}"))
            : new WireHttpProducer(Url, stream, durability);
    }

    public IConsumerClient OpenConsumer(string stream, string group, string consumer) =>
        new OrleansBusConsumer(Program.CreateClient(Url, 1), Url, stream, group, consumer, _groupsFromStart.GetValueOrDefault(group, true));

    /// <summary>The raw read of a category this compare run produced, as the load generator's read phase does it.</summary>
    public async Task<PhaseResult> RawReadAsync(string category, ExpectedTotals produced, int connections, CancellationToken ct)
    {
        var options = BenchOptions.Parse(["--message-bytes", $"{CompareOptions.ProduceMessageBytes}", "--connections", $"{connections}"], out _);
        using var client = Program.CreateClient(Url, connections);
        return await new ReadPhase(client, options, category).RunAsync("read", produced, ct);
    }

    public static void Ensure(HttpResponseMessage response, string during)
    {
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{during}: HTTP {(int)response.StatusCode} {response.Content.ReadAsStringAsync().GetAwaiter().GetResult()}");
    }

    public async ValueTask DisposeAsync()
    {
        _admin?.Dispose();
        if (_silo is not null)
            await _silo.DisposeAsync();
    }

    private sealed class Producer(HttpClient client, Uri uri) : IProducerClient
    {
        public void Produce(ReadOnlyMemory<byte> messages, int messageBytes)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ReadOnlyMemoryContent(messages) };
            request.Content.Headers.ContentType = OctetStream;
            using var response = client.Send(request, HttpCompletionOption.ResponseHeadersRead);
            Ensure(response, "produce");
            EnsureAcknowledged(JsonSerializer.Deserialize(response.Content.ReadAsStream(), BenchJsonContext.Default.ProduceResult), messages.Length, messageBytes);
        }

        public void Dispose() => client.Dispose();
    }

    internal static MediaTypeHeaderValue JsonType => Json;

    /// <summary>Throws unless <paramref name="ack"/> acknowledges every message of the <paramref name="bytes"/> sent.</summary>
    internal static void EnsureAcknowledged(ProduceResult? ack, int bytes, int messageBytes)
    {
        if (ack is null || ack.Messages != bytes / messageBytes || ack.Length != bytes)
            throw new InvalidOperationException($"produce: sent {bytes / messageBytes} messages, acknowledged {ack?.Messages}");
    }
}
