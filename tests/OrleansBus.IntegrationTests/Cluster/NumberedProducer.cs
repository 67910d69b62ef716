using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using OrleansBus.Contracts;

namespace OrleansBus.IntegrationTests.Cluster;

/// <summary>
/// Produces batches of numbered messages (<c>&lt;prefix&gt;-&lt;n:D8&gt;-payload</c>) and records, per batch, whether
/// the bus acknowledged it (200, with where it landed) or not. A batch is never sent twice, so every message has one
/// origin: acknowledged ones must be readable exactly once, the others at most once. Thread safe: many producer loops
/// may share one instance and draw batch numbers from it.
/// </summary>
internal sealed class NumberedProducer(HttpClient http, string category, string prefix, int messagesPerBatch)
{
    private const string Payload = "abcdefghijklmnopqrstuvwxyz";
    private int _nextBatch = -1;

    public string Category { get; } = category;
    public int MessagesPerBatch { get; } = messagesPerBatch;

    /// <summary>Acknowledged batches by number, with the produce reply.</summary>
    public ConcurrentDictionary<int, ProduceResult> Acknowledged { get; } = new();

    /// <summary>Batches that were sent but not acknowledged, with what happened.</summary>
    public ConcurrentDictionary<int, string> Failed { get; } = new();

    /// <summary>Batches sent so far (acknowledged, failed or in flight).</summary>
    public int Sent => Volatile.Read(ref _nextBatch) + 1;

    public string Message(int n) => $"{prefix}-{n:D8}-{Payload}";

    public string Body(int batch)
    {
        var body = new StringBuilder();
        for (var n = batch * MessagesPerBatch; n < (batch + 1) * MessagesPerBatch; n++)
            body.Append(Message(n)).Append('\n');
        return body.ToString();
    }

    public IEnumerable<string> Messages(int batch)
    {
        for (var n = batch * MessagesPerBatch; n < (batch + 1) * MessagesPerBatch; n++)
            yield return Message(n);
    }

    public List<string> AcknowledgedMessages() => Acknowledged.Keys.Order().SelectMany(Messages).ToList();

    public List<string> FailedMessages() => Failed.Keys.Order().SelectMany(Messages).ToList();

    /// <summary>The bytes the acknowledged batches put into each chunk, in offset order (for byte-exact comparisons).</summary>
    public Dictionary<string, byte[]> ExpectedChunkBytes()
    {
        var chunks = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var group in Acknowledged.GroupBy(p => p.Value.Chunk, StringComparer.Ordinal))
        {
            using var bytes = new MemoryStream();
            foreach (var (batch, result) in group.OrderBy(p => p.Value.Offset))
            {
                Assert.True(bytes.Length == result.Offset,
                    $"Batch {batch} landed in {result.Chunk} at offset {result.Offset}, but the batches acknowledged before it end at {bytes.Length}.");
                bytes.Write(Encoding.UTF8.GetBytes(Body(batch)));
            }
            chunks[group.Key] = bytes.ToArray();
        }
        return chunks;
    }

    /// <summary>
    /// Sends the next batch to <paramref name="baseUrl"/> with <paramref name="query"/> (e.g. <c>min_sync_replicas=1</c>);
    /// records the outcome and returns the reply on 200, else null.
    /// </summary>
    public async Task<ProduceResult?> ProduceNextAsync(string baseUrl, string query = "")
    {
        var batch = Interlocked.Increment(ref _nextBatch);
        var uri = new Uri($"{baseUrl}/v1/categories/{Category}/messages{(query.Length > 0 ? "?" + query : "")}");
        try
        {
            using var response = await http.PostAsync(uri, new StringContent(Body(batch)));
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.OK)
            {
                Failed[batch] = $"{(int)response.StatusCode}: {text}";
                return null;
            }
            var result = JsonSerializer.Deserialize<ProduceResult>(text)!;
            Assert.True(result.Messages == MessagesPerBatch && result.Category == Category,
                $"Batch {batch} was acknowledged as {result.Messages} messages in {result.Category}: {text}");
            Acknowledged[batch] = result;
            return result;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            Failed[batch] = $"{e.GetType().Name}: {e.Message}";
            return null;
        }
    }
}
